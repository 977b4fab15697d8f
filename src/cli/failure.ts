/**
 * A command's failure as the user sees it: one masked line on stderr, and the exit status its
 * kind of error means (README, exit statuses). Shared by the full CLI and the one-shot path, so
 * both fail alike.
 */
import { ConfigError } from '../config/config-error.js';
import { IngestError } from '../errors.js';
import { maskText } from '../log/secrets.js';
import { EXIT, UsageError, type CliIo } from './command.js';

export function reportFailure(err: unknown, io: Pick<CliIo, 'stderr'>): number {
  io.stderr.write(`faspex-ingest: ${oneLine(err)}\n`);
  if (err instanceof UsageError || err instanceof ConfigError) return EXIT.usage;
  if (err instanceof IngestError && err.code === 'CONFIG') return EXIT.usage;
  if (err instanceof IngestError && err.code === 'CANCELLED') return EXIT.interrupted;
  return EXIT.failed;
}

/** What a command that returned set as its status (a command may set process.exitCode). */
export function exitStatusAfterSuccess(): number {
  return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
}

function oneLine(err: unknown): string {
  if (err instanceof ConfigError) return maskText(err.message.replace(/\n\s*/g, ' '));
  const message = err instanceof Error ? err.message : String(err);
  return maskText(message);
}
