import { notBuiltYet } from '../command.js';

export const runCommand = notBuiltYet('run', 'everything in one process: mail listener, download workers, dashboard', '');
