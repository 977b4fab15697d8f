import { notBuiltYet } from '../command.js';

export const resolveCommand = notBuiltYet('resolve', 'print what download would transfer, without transferring', '<link>');
