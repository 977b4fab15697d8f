/**
 * Runs ON_COMPLETE_COMMAND once for one package: execa with argv as given (no shell, so a title
 * cannot inject anything), the environment of handoff-env.ts, a deadline, and its output read
 * line by line into the log, masked and capped (a chatty or hostile command cannot fill memory
 * or the job log). Any failure (non-zero exit, signal, timeout, not startable) is a
 * HANDOFF_FAILED IngestError to retry later: the package itself is complete and stays so.
 */
import { execa } from 'execa';
import { IngestError } from '../errors.js';
import { maskText } from '../log/secrets.js';
import { handoffEnvironment, type HandoffFacts } from './handoff-env.js';

/** lines of output passed on per run; the rest is counted, not kept */
const MAX_LINES = 200;
const MAX_LINE_CHARS = 2000;

export interface HandoffCommand {
  argv: string[];
  timeoutMs: number;
}

export interface HandoffRun {
  /** each line of the command's output (stdout and stderr), masked */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  /** the environment the harmless variables are taken from (default: this process's) */
  baseEnv?: NodeJS.ProcessEnv;
}

export async function runHandoffCommand(command: HandoffCommand, facts: HandoffFacts, run: HandoffRun = {}): Promise<{ lines: number }> {
  const [file, ...args] = command.argv;
  let lines = 0;
  let tail = '';
  const emit = (raw: string) => {
    lines++;
    const line = maskText(raw.length > MAX_LINE_CHARS ? `${raw.slice(0, MAX_LINE_CHARS)}…` : raw);
    tail = line;
    if (lines <= MAX_LINES) run.onLine?.(line);
    else if (lines === MAX_LINES + 1) run.onLine?.(`… more output not logged (over ${MAX_LINES} lines)`);
  };
  const child = execa(file!, args, {
    cwd: facts.folder,
    env: handoffEnvironment(facts, run.baseEnv ?? process.env),
    extendEnv: false,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    timeout: command.timeoutMs,
    cancelSignal: run.signal,
    killSignal: 'SIGTERM',
    forceKillAfterDelay: 5000,
  });
  let partial = '';
  const onData = (chunk: Buffer | string) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    // a line without an end is cut, not buffered without bound
    if (partial.length > MAX_LINE_CHARS) {
      emit(partial);
      partial = '';
    }
    for (const p of parts) if (p.trim()) emit(p.replace(/\r$/, ''));
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const result = await child;
  if (partial.trim()) emit(partial);
  const name = maskText(file!);
  const last = tail ? `; its last output: ${tail}` : '';
  if (result.timedOut) throw handoffFailed(`ON_COMPLETE_COMMAND (${name}) did not finish within ${Math.round(command.timeoutMs / 1000)} s (ON_COMPLETE_TIMEOUT_SECONDS) and was stopped${last}`, { timedOut: true });
  if (result.isCanceled) throw new IngestError('CANCELLED', 'the hand-off was stopped for shutdown; it runs again on the next start', { retry: 'later' });
  if (result.exitCode === undefined && result.signal === undefined) {
    const why = 'originalMessage' in result && typeof result.originalMessage === 'string' ? result.originalMessage : 'unknown reason';
    throw handoffFailed(`ON_COMPLETE_COMMAND (${name}) could not be started: ${maskText(why)}; check the path and that it is executable`, {});
  }
  if (result.signal) throw handoffFailed(`ON_COMPLETE_COMMAND (${name}) was killed by ${result.signal}${last}`, { signal: result.signal });
  if (result.exitCode !== 0) throw handoffFailed(`ON_COMPLETE_COMMAND (${name}) exited with status ${result.exitCode}${last}`, { exitCode: result.exitCode });
  return { lines };
}

function handoffFailed(message: string, details: Record<string, unknown>): IngestError {
  return new IngestError('HANDOFF_FAILED', message, { retry: 'later', details });
}
