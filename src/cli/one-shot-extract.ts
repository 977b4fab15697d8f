/**
 * What the one-shot path (one-shot.ts) loads to run `extract`: the command and the failure report,
 * together, so the build bundles them into one file (scripts/build.mjs) with one copy of every
 * module they share (the secret registry that masks the failure line, the error classes it tells
 * apart).
 */
export { extract } from './commands/extract.js';
export { reportFailure } from './failure.js';
