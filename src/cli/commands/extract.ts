import { notBuiltYet } from '../command.js';

export const extractCommand = notBuiltYet('extract', 'print the Faspex package links found in one message', '[file]');
