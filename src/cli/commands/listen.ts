import { notBuiltYet } from '../command.js';

export const listenCommand = notBuiltYet('listen', 'only the IMAP listener (mail in, jobs out)', '');
