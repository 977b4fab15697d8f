import { notBuiltYet } from '../command.js';

export const faspUrlCommand = notBuiltYet('fasp-url', 'offline: convert a faspe:// or fasp:// URL', '<url>');
