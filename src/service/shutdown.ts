/**
 * Graceful shutdown on SIGTERM/SIGINT: stop taking work, stop transfers so they resume later,
 * close connections; a second signal exits at once (locks then expire and other workers, or
 * the next start, take the jobs over, resuming from the partial files).
 */
import type { Logger } from '../log/logger.js';
import { failpoint } from './failpoints.js';

export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export function installShutdown(parts: () => Stoppable[], logger: Logger, exit: (code: number) => void = (c) => process.exit(c)): { done: Promise<void>; trigger(reason: string): Promise<void> } {
  let stopping: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  const trigger = (reason: string): Promise<void> => {
    if (stopping) return stopping;
    const bySignal = reason === 'SIGTERM' || reason === 'SIGINT';
    logger.info({ reason }, `shutting down: no new jobs; running transfers stop and resume later${bySignal ? ' (signal again to exit at once)' : ''}`);
    stopping = (async () => {
      // in order: the first part listed stops first (mail in before downloads before the dashboard)
      for (const part of parts()) {
        try {
          await part.stop();
        } catch (err) {
          logger.error({ err, part: part.name }, 'error while stopping');
        }
        // @N: killed mid-shutdown, after the Nth part stopped (2 in `run`: the downloads handed back)
        failpoint('shutdown.after-part');
      }
      logger.info('stopped');
      resolveDone();
    })();
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(130);
      return;
    }
    void trigger(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  void done.then(() => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  });
  return { done, trigger };
}
