import { describe, expect, it } from 'vitest';
import { actUntil, afterRenew, holderTick, leaseTimings, standbyWaitMs } from '../../src/lease/lease-policy.js';

const t = leaseTimings(15_000);

describe('lease timings', () => {
  it('renews three times per lease, keeps a tenth as margin, polls within a third', () => {
    expect(t).toEqual({ ttlMs: 15_000, renewEveryMs: 5000, safetyMs: 1500, retryMinMs: 250, retryMaxMs: 5000 });
    expect(leaseTimings(3000)).toEqual({ ttlMs: 3000, renewEveryMs: 1000, safetyMs: 300, retryMinMs: 150, retryMaxMs: 1000 });
  });

  it('bounds acting by when the winning request was sent, not answered', () => {
    expect(actUntil(1000, t)).toBe(1000 + 15_000 - 1500);
  });
});

describe('a holder', () => {
  it.each([
    ['well within the bound', 5000, 13_500, 'renew'],
    ['just before the bound', 13_499, 13_500, 'renew'],
    ['at the bound', 13_500, 13_500, 'lost'],
    ['woken long after (SIGSTOP, GC)', 60_000, 13_500, 'lost'],
  ])('%s: tick at %i with bound %i → %s', (_w, now, until, kind) => {
    expect(holderTick(now, until).kind).toBe(kind);
  });

  it.each([
    // outcome, sentAt, now, old bound → result
    ['renewed quickly', { kind: 'renewed' }, 5000, 5010, 13_500, { kind: 'hold', validUntil: 18_500, renewInMs: 4990 }],
    ['renewed slowly', { kind: 'renewed' }, 5000, 9000, 13_500, { kind: 'hold', validUntil: 18_500, renewInMs: 1000 }],
    ['renewed after the new bound (paused while waiting)', { kind: 'renewed' }, 5000, 19_000, 13_500, { kind: 'lost' }],
    ['refused: someone else holds it', { kind: 'refused' }, 5000, 5010, 13_500, { kind: 'lost' }],
    ['Redis error, time left: retry soon', { kind: 'error', message: 'ECONNREFUSED' }, 5000, 5010, 13_500, { kind: 'hold', validUntil: 13_500, renewInMs: 250 }],
    ['Redis error, very little time left', { kind: 'error', message: 'ECONNREFUSED' }, 13_300, 13_400, 13_500, { kind: 'hold', validUntil: 13_500, renewInMs: 100 }],
    ['Redis error past the bound', { kind: 'error', message: 'ECONNREFUSED' }, 13_000, 13_600, 13_500, { kind: 'lost' }],
  ] as const)('%s', (_w, outcome, sentAt, now, until, expected) => {
    expect(afterRenew(outcome, sentAt, now, until, t)).toMatchObject(expected);
  });

  it('says why it lost, with the cause of a Redis failure', () => {
    expect(afterRenew({ kind: 'error', message: 'ECONNREFUSED' }, 13_000, 13_600, 13_500, t)).toEqual({ kind: 'lost', reason: 'the lease could not be renewed before it ran out: ECONNREFUSED' });
    expect(holderTick(20_000, 13_500)).toEqual({ kind: 'lost', reason: 'the lease ran out 6500 ms before it could be renewed (was the process paused?)' });
  });
});

describe('a standby', () => {
  it.each([
    ['no lease at all', -2, 0],
    ['a lease without expiry (not ours)', -1, 5000],
    ['expiring in 2 ms', 2, 250],
    ['expiring in 3 s', 3000, 3001],
    ['a fresh lease', 15_000, 5000],
  ])('%s (PTTL %i) asks again in %i ms', (_w, pttl, wait) => {
    expect(standbyWaitMs(pttl, t)).toBe(wait);
  });
});
