/**
 * V8 heap settings for the long-running commands, applied by bin/faspex-ingest before anything
 * else loads. Neither is a cap: the heap may still grow as far as V8's default limit.
 *
 * - A young generation of 2 MB semi-spaces instead of V8's default (16 MB on Node 20, 32 MB on
 *   Node 24, three to six times the live set of this service): what survives a scavenge of
 *   that size is promoted a little earlier, which the old generation pays for with a few more
 *   of its cheap collections. Only settable when node starts: bin/faspex-ingest run directly
 *   (npm's bin link, `npm start`) is first a sh line that execs node with the flag, on every
 *   Node line; started as `node bin/faspex-ingest` (the container image, the tests), a Node that
 *   has process.execve (22.15+, 24) replaces itself once with the flag added: same PID, same
 *   stdio and signals, one more node start (~50 ms). Node 20 started that way has no execve
 *   and keeps its default young generation.
 * - Old space collected when it reaches 1.5× what survived the last full collection, instead of
 *   up to 4× (V8's factor on a machine with plenty of memory): mailparser's short-lived objects
 *   are pretenured into old space, so old space fills with garbage that V8 would otherwise let
 *   grow to ~3× the live set before a major GC. Read by V8 at every collection, so it may be set
 *   at run time (and is, where no execve is available).
 *
 * A flag the operator already gives node (command line or NODE_OPTIONS) wins over ours.
 * Figures: docs/benchmarks.md ("Memory").
 */

/** commands that stay up; one-shot commands start as plain node (their start time matters more) */
const LONG_RUNNING = new Set(['run', 'listen', 'work', 'dashboard', 'demo']);

export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=2';
export const OLD_GENERATION_FLAG = '--heap-growing-percent=50';

export interface NodeMemoryPlan {
  /** flags to relaunch node with (process.execve); empty: no relaunch */
  relaunchWith: string[];
  /** flags to set in this process (v8.setFlagsFromString) */
  setNow: string[];
}

const NONE: NodeMemoryPlan = { relaunchWith: [], setNow: [] };

/** What to do for this process; pure, for the table test. `args` is process.argv.slice(2). */
export function planNodeMemory(o: { args: readonly string[]; execArgv: readonly string[]; nodeOptions: string | undefined; canExec: boolean }): NodeMemoryPlan {
  const command = o.args.find((a) => !a.startsWith('-'));
  if (command === undefined || !LONG_RUNNING.has(command)) return NONE;
  const given = [...o.execArgv, ...(o.nodeOptions ?? '').split(/\s+/)].map((f) => f.replace(/^--([^=]*)/, (_, name: string) => `--${name.replace(/_/g, '-')}`));
  const missing = (flag: string) => {
    const name = flag.slice(0, flag.indexOf('='));
    return !given.some((g) => g === name || g.startsWith(`${name}=`));
  };
  const young = missing(YOUNG_GENERATION_FLAG) ? [YOUNG_GENERATION_FLAG] : [];
  const old = missing(OLD_GENERATION_FLAG) ? [OLD_GENERATION_FLAG] : [];
  if (o.canExec && young.length > 0) return { relaunchWith: [...young, ...old], setNow: [] };
  return { relaunchWith: [], setNow: old };
}

/**
 * Applies the plan to this process. Returns only when no relaunch happened (not needed, or
 * execve refused, in which case the service runs with V8's defaults rather than not at all).
 */
export function tuneNodeMemory(proc: NodeJS.Process = process): void {
  // node:v8 only when a flag is set: every command passes through here, one-shot ones included
  const setFlagsFromString = (flag: string) => proc.getBuiltinModule('node:v8').setFlagsFromString(flag);
  const execve = (proc as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  const plan = planNodeMemory({ args: proc.argv.slice(2), execArgv: proc.execArgv, nodeOptions: proc.env.NODE_OPTIONS, canExec: typeof execve === 'function' });
  if (plan.relaunchWith.length > 0) {
    try {
      execve!.call(proc, proc.execPath, [proc.execPath, ...plan.relaunchWith, ...proc.execArgv, ...proc.argv.slice(1)], proc.env);
    } catch {
      // e.g. a seccomp profile without execve: run on as we are, with the run-time part at least
      for (const flag of plan.relaunchWith) if (flag === OLD_GENERATION_FLAG) setFlagsFromString(flag);
      return;
    }
  }
  for (const flag of plan.setNow) setFlagsFromString(flag);
}
