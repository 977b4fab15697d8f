/**
 * What the one-shot path (one-shot.ts) loads to run `fasp-url`: the command and the failure report,
 * together, so the build bundles them into one file (scripts/build.mjs) with one copy of every
 * module they share (the secret registry that masks the failure line, the error classes it tells
 * apart).
 */
export { faspUrl } from './commands/fasp-url.js';
export { reportFailure } from './failure.js';
