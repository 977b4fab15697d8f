/**
 * What the fake ascp leaves behind for tests to read, in one place: where it is, and the
 * records it writes into FAKE_ASCP_STATE_DIR (one line per run in invocations.jsonl: pid, start
 * time, argv and the names, never the values, of its environment; bytes-<pid> counters).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAKE_ASCP = fileURLToPath(new URL('./ascp', import.meta.url));

export interface Invocation {
  run: number;
  pid: number;
  /** ms since the epoch when that ascp started */
  at: number;
  argv: string[];
  envNames: string[];
}

/** Every ascp the fake recorded, in start order. */
export function invocations(stateDir: string): Invocation[] {
  const file = join(stateDir, 'invocations.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Invocation);
}

/** Bytes written by every fake ascp run so far. */
export function bytesTransferred(stateDir: string): number {
  if (!existsSync(stateDir)) return 0;
  return readdirSync(stateDir)
    .filter((f) => f.startsWith('bytes-'))
    .reduce((n, f) => n + Number(readFileSync(join(stateDir, f), 'utf8') || 0), 0);
}

/** true while the process runs; a zombie (exited, not yet reaped) counts as gone. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}
