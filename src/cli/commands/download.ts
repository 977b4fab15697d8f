import { notBuiltYet } from '../command.js';

export const downloadCommand = notBuiltYet('download', 'one package, now, without Redis: resolve, token, ascp, progress', '<link>');
