/**
 * What every CLI command module exports. A command does its work and returns an exit status;
 * it throws for failures, and main.ts turns any throw into one masked line on stderr.
 */
import type { Command } from 'commander';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream;
}

export interface CliCommand {
  /** adds the command, its options and its --help text to the program */
  register(program: Command, io: CliIo): void;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit status conventions, documented in the README. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;
