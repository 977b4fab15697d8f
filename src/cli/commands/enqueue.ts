import { notBuiltYet } from '../command.js';

export const enqueueCommand = notBuiltYet('enqueue', 'queue one link as if it had arrived by mail', '<link>');
