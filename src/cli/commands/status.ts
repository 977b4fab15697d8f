import { notBuiltYet } from '../command.js';

export const statusCommand = notBuiltYet('status', 'queue counts and the latest jobs with their state and reason', '');
