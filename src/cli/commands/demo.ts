import { notBuiltYet } from '../command.js';

export const demoCommand = notBuiltYet('demo', 'a self-contained tour on this machine with stand-in servers', '');
