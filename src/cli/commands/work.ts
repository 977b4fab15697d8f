import { notBuiltYet } from '../command.js';

export const workCommand = notBuiltYet('work', 'only the download workers', '');
