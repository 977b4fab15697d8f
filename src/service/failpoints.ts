/**
 * TEST FACILITY: failpoints for the crash suites (test/integration/crash-*.test.ts).
 *
 * `failpoint(name)` marks a moment where a crash matters (after jobs were queued but before the
 * mail is marked handled; after the manifest's temp file is written but before its rename).
 * When the environment variable FASPEX_INGEST_FAILPOINTS lists the name, the process SIGKILLs
 * itself there: no cleanup, no shutdown hook, exactly like a power cut at that line.
 *
 *   FASPEX_INGEST_FAILPOINTS=listener.after-enqueue          first time the point is reached
 *   FASPEX_INGEST_FAILPOINTS=listener.after-enqueue@3,...    the third time
 *   FASPEX_INGEST_FAILPOINTS=listener.pause-before-enqueue   SIGSTOP instead (see PAUSES)
 *   FASPEX_INGEST_FAILPOINTS=embedded-redis.without-parent-death-signal   a switch (FailpointSwitch)
 *
 * Never set it in production. Unset (the normal case), `failpoint` is one comparison.
 */
import { writeSync } from 'node:fs';

export const FAILPOINTS_VARIABLE = 'FASPEX_INGEST_FAILPOINTS';

/** The failpoints the product has; a name outside this list is a test typo. */
export type FailpointName = 'listener.after-enqueue' | 'manifest.before-rename' | 'listener.pause-before-enqueue' | 'shutdown.after-part' | 'handoff.before-enqueue';

/**
 * Switches that take a safety layer away, so a test can prove the layer under it alone:
 * `embedded-redis.without-parent-death-signal` starts the embedded Redis without the signal that
 * stops it with its parent, leaving it orphaned by a SIGKILL, as on a host without setpriv.
 */
export type FailpointSwitch = 'embedded-redis.without-parent-death-signal';

/**
 * These stop the process instead (SIGSTOP), as a long GC pause or a frozen VM would, until the
 * test sends SIGCONT: it then carries on from that very line, its lease perhaps long gone.
 */
const PAUSES: ReadonlySet<FailpointName> = new Set(['listener.pause-before-enqueue']);

/** name → the hit (1-based) that kills; exported for the unit test. */
export function parseFailpoints(spec: string | undefined): Map<string, number> | undefined {
  if (!spec || spec.trim() === '') return undefined;
  const armed = new Map<string, number>();
  for (const item of spec.split(',')) {
    const m = /^\s*([a-z0-9.-]+)(?:@(\d+))?\s*$/i.exec(item);
    if (!m) throw new Error(`${FAILPOINTS_VARIABLE}: cannot read "${item}" (expected name or name@N)`);
    armed.set(m[1]!, m[2] === undefined ? 1 : Math.max(1, Number(m[2])));
  }
  return armed;
}

const armed = parseFailpoints(process.env[FAILPOINTS_VARIABLE]);
const hits = new Map<string, number>();

export function failpoint(name: FailpointName): void {
  if (armed === undefined) return;
  const at = armed.get(name);
  if (at === undefined) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (n !== at) return;
  const signal = PAUSES.has(name) ? 'SIGSTOP' : 'SIGKILL';
  // Synchronous, so the line is out before the signal lands.
  writeSync(2, `failpoint ${name} (hit ${n}): ${signal}\n`);
  process.kill(process.pid, signal);
}

export function failpointSwitch(name: FailpointSwitch): boolean {
  return armed?.has(name) ?? false;
}
