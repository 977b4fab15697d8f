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
  /** the sources, from argv or from a --file-list / --file-pair-list */
  sources?: string[];
}

/** Every ascp the fake recorded, in start order. */
export function invocations(stateDir: string): Invocation[] {
  const file = join(stateDir, 'invocations.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Invocation);
}

export interface Route {
  run: number;
  pid: number;
  /** the way it got through: ssh+udp, ssh+http or wss */
  route: 'ssh+udp' | 'ssh+http' | 'wss';
  proxy: string | null;
}

/** Every run that got through the simulated firewall (FAKE_ASCP_BLOCKED), in order (routes.jsonl). */
export function routes(stateDir: string): Route[] {
  const file = join(stateDir, 'routes.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Route);
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

export interface SessionEvent {
  event: 'start' | 'end' | 'refused';
  host: string;
  pid: number;
  run: number;
  at: number;
  /** on 'end': the fake's exit code (0: the transfer completed) */
  code?: number;
}

/** The fake transfer server's own session log (sessions.mjs), in order of writing. */
export function sessionEvents(stateDir: string): SessionEvent[] {
  const file = join(stateDir, 'sessions.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as SessionEvent);
}

/** Most sessions open at once on `host`, replaying starts and ends in time order (an end first on a tie). */
export function peakSessions(events: SessionEvent[], host: string): number {
  const marks = events
    .filter((e) => e.host === host && e.event !== 'refused')
    .map((e) => ({ at: e.at, delta: e.event === 'start' ? 1 : -1 }))
    .sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let peak = 0;
  for (const m of marks) {
    open += m.delta;
    peak = Math.max(peak, open);
  }
  return peak;
}

/** Per package (its uuid in ascp's source path): how many transfers ran to the end (exit 0). */
export function completedTransfers(stateDir: string, uuids: string[]): Record<string, number> {
  const byPid = new Map(invocations(stateDir).map((i) => [i.pid, i.argv.join(' ')]));
  const out: Record<string, number> = Object.fromEntries(uuids.map((u) => [u, 0]));
  for (const e of sessionEvents(stateDir)) {
    if (e.event !== 'end' || e.code !== 0) continue;
    const argv = byPid.get(e.pid) ?? '';
    for (const u of uuids) if (argv.includes(u)) out[u]! += 1;
  }
  return out;
}
