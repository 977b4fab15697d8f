/**
 * The timing rules of the listener lease, pure (no clock, no Redis): when a holder renews, until
 * when it may act on its own say-so, when it must consider the lease lost, and when a standby
 * asks again. Times are milliseconds on a monotonic clock.
 *
 * A holder may act only until `sentAt + ttl - safety`, where `sentAt` is when the request that
 * won or renewed the lease was SENT (not when the answer came): Redis started the TTL at some
 * moment after that, so this bound is never later than the real expiry. `safety` covers clock
 * rate differences and the time between a check and the write it guards. A process paused past
 * that bound (GC, SIGSTOP, a VM migration) finds on waking that the bound has passed and stops
 * before doing anything; the writes that matter are also fenced in Redis, for the cases a local
 * check cannot see.
 */

export interface LeaseTimings {
  ttlMs: number;
  /** a holder renews this often: three tries before the lease runs out */
  renewEveryMs: number;
  safetyMs: number;
  /** a standby asks at least this often, and at most this rarely */
  retryMinMs: number;
  retryMaxMs: number;
}

export function leaseTimings(ttlMs: number): LeaseTimings {
  return {
    ttlMs,
    renewEveryMs: Math.max(100, Math.floor(ttlMs / 3)),
    safetyMs: Math.max(50, Math.floor(ttlMs / 10)),
    retryMinMs: Math.min(250, Math.max(20, Math.floor(ttlMs / 20))),
    retryMaxMs: Math.max(100, Math.floor(ttlMs / 3)),
  };
}

/** Until when a holder may act after a request sent at `sentAt` won or renewed the lease. */
export function actUntil(sentAt: number, t: LeaseTimings): number {
  return sentAt + t.ttlMs - t.safetyMs;
}

export type HolderStep =
  /** the bound has passed: stop all work now, without asking Redis */
  | { kind: 'lost'; reason: string }
  | { kind: 'renew' };

/** What a holder does when its renew timer fires at `now`. */
export function holderTick(now: number, validUntil: number): HolderStep {
  if (now >= validUntil) return { kind: 'lost', reason: `the lease ran out ${Math.round(now - validUntil)} ms before it could be renewed (was the process paused?)` };
  return { kind: 'renew' };
}

export type RenewOutcome = { kind: 'renewed' } | { kind: 'refused' } | { kind: 'error'; message: string };

export type HolderNext =
  | { kind: 'hold'; validUntil: number; renewInMs: number }
  | { kind: 'lost'; reason: string };

/**
 * After a renew sent at `sentAt` ended at `now`: keep holding (and when to renew next) or stop.
 * A refusal means someone else holds it or it expired; an error (Redis unreachable) keeps the
 * old bound and tries again soon, and is a loss once the bound has passed.
 */
export function afterRenew(outcome: RenewOutcome, sentAt: number, now: number, validUntil: number, t: LeaseTimings): HolderNext {
  if (outcome.kind === 'renewed') {
    const until = actUntil(sentAt, t);
    if (now >= until) return { kind: 'lost', reason: `the renewal took ${Math.round(now - sentAt)} ms, longer than the lease` };
    return { kind: 'hold', validUntil: until, renewInMs: Math.max(0, Math.min(t.renewEveryMs - (now - sentAt), until - now)) };
  }
  if (outcome.kind === 'refused') return { kind: 'lost', reason: 'another listener holds the lease now (this one was paused or cut off longer than the lease)' };
  if (now >= validUntil) return { kind: 'lost', reason: `the lease could not be renewed before it ran out: ${outcome.message}` };
  return { kind: 'hold', validUntil, renewInMs: Math.min(t.retryMinMs, validUntil - now) };
}

/**
 * When a standby asks again, from the lease's remaining time as Redis reported it (PTTL: -2 no
 * key, -1 a key without expiry). Asking just after the expiry makes a takeover take the lease
 * time at most, not the lease time plus a polling period.
 */
export function standbyWaitMs(pttl: number, t: LeaseTimings): number {
  if (pttl === -2) return 0;
  if (pttl < 0) return t.retryMaxMs;
  return Math.min(t.retryMaxMs, Math.max(t.retryMinMs, pttl + 1));
}
