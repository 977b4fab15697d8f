/**
 * Waits that an abort ends early, for the loops that hold a lease or run until stopped (the lease
 * keeper, the box sweeper, the inbox runner). They resolve, never reject: the loop itself reads
 * the signal to learn why it woke.
 */

/** Resolves after `ms`, or at once when `signal` aborts (or already has). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    // a ref'd timer, as before: a loop that only waits still keeps the process up
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves when the first of `signals` aborts (at once if one already has). */
export function firstAbort(...signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    if (signals.some((s) => s.aborted)) return resolve();
    const done = () => {
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}
