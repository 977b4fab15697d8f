/**
 * Retry timing for download jobs. Permanent failures never reach here (they end through
 * UnrecoverableError); transient ones and refused tokens back off exponentially with jitter,
 * so a Faspex outage does not get hammered by every worker at once.
 */
import { retryDelayMs } from '../errors.js';

export function downloadBackoff(retry: { baseMs: number; maxMs: number }) {
  return (attemptsMade: number): number => retryDelayMs(attemptsMade, retry.baseMs, retry.maxMs);
}
