import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LeaseKeeper, LeaseLostError, type HeldLease } from '../../src/lease/lease-keeper.js';
import { leaseTimings } from '../../src/lease/lease-policy.js';
import { RedisLeaseStore, leaseKeys } from '../../src/lease/lease-store.js';
import { uniqueName, waitFor } from '../support/temp.js';

/** The lease against a real Redis: one holder at a time, fenced tokens, takeover, loss noticed. */
describe('listener lease', () => {
  let redis: Redis;
  const held: HeldLease[] = [];
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await Promise.all(held.map((h) => h.release()));
    await redis.quit();
  });

  const keeper = (prefix: string, owner: string, extra: Partial<ConstructorParameters<typeof LeaseKeeper>[0]> = {}) =>
    new LeaseKeeper({ store: new RedisLeaseStore(redis, prefix, 'inbox-a'), timings: leaseTimings(3000), owner, ...extra });
  const hold = async (k: LeaseKeeper, stop = new AbortController().signal) => {
    const h = await k.acquire(stop);
    if (h) held.push(h);
    return h;
  };

  it('gives the lease to one of two, the other waits, and takes over at once when it is given up', async () => {
    const prefix = uniqueName('lease');
    const standby: string[] = [];
    const first = await hold(keeper(prefix, 'host-a:1'));
    expect(first!.token).toBe(1);
    expect(first!.holder).toBe('1 host-a:1');
    expect(first!.leaseKey).toBe(`${prefix}:inbox:inbox-a:lease`);
    const second = hold(keeper(prefix, 'host-b:2', { onStandby: (s) => standby.push(s.holder) }));
    await waitFor(() => standby.length > 0, { what: 'the second to wait' });
    expect(standby).toEqual(['1 host-a:1']);
    await first!.release();
    expect(first!.signal.aborted).toBe(true);
    const h2 = await second;
    expect(h2!.token).toBe(2);
    expect(await redis.get(leaseKeys(prefix, 'inbox-a').fence)).toBe('2');
  });

  it('a holder that stops renewing (as if dead) is replaced once its lease expires, with a higher token', async () => {
    const prefix = uniqueName('lease');
    const store = new RedisLeaseStore(redis, prefix, 'inbox-a');
    const dead = await store.acquire('dead:1', 3000);
    expect(dead).toMatchObject({ acquired: true, token: 1 });
    const pttl = await redis.pttl(store.leaseKey);
    expect(pttl).toBeGreaterThan(0);
    const h = await hold(keeper(prefix, 'alive:2'));
    expect(h!.token).toBe(2);
    expect(await store.holds('1 dead:1')).toBe(false);
    expect(await store.renew('1 dead:1', 3000)).toBe(false);
  });

  it('renews while held, so the lease outlives its TTL', async () => {
    const prefix = uniqueName('lease');
    // a 5 s lease renews every 1.7 s: a loaded machine may stall the loop 3 s without losing it
    const h = await hold(keeper(prefix, 'a:1', { timings: leaseTimings(5000) }));
    const start = performance.now();
    // more than two TTLs: only renewals keep it ours
    await waitFor(async () => performance.now() - start > 11_000, { what: 'two lease periods', timeoutMs: 14_000, intervalMs: 250 });
    expect(await redis.get(h!.leaseKey)).toBe(h!.holder);
    expect(() => h!.assertHeld()).not.toThrow();
  }, 20_000);

  it('notices a takeover at its next renewal and aborts its signal with the reason', async () => {
    const prefix = uniqueName('lease');
    const lost: string[] = [];
    const h = await hold(keeper(prefix, 'a:1', { onLost: (r) => lost.push(r) }));
    // what a standby does after this holder was cut off longer than the lease
    await redis.del(h!.leaseKey);
    const other = await new RedisLeaseStore(redis, prefix, 'inbox-a').acquire('b:2', 3000);
    expect(other).toMatchObject({ acquired: true, token: 2 });
    await waitFor(() => h!.signal.aborted, { what: 'the loss to be noticed' });
    expect(lost).toEqual(['another listener holds the lease now (this one was paused or cut off longer than the lease)']);
    expect(() => h!.assertHeld()).toThrow(LeaseLostError);
    // giving up a lost lease leaves the new holder alone
    await h!.release();
    expect(await redis.get(h!.leaseKey)).toBe('2 b:2');
  });

  it('after a pause past its bound, refuses to act before asking Redis', async () => {
    const prefix = uniqueName('lease');
    let skew = 0;
    const h = await hold(keeper(prefix, 'a:1', { now: () => performance.now() + skew }));
    expect(() => h!.assertHeld()).not.toThrow();
    skew = 3000; // the clock moved a whole lease while this process did not run
    expect(() => h!.assertHeld()).toThrow(/the lease ran out \d+ ms before it could be renewed/);
    expect(h!.signal.aborted).toBe(true);
  });

  it('a stopped standby returns nothing', async () => {
    const prefix = uniqueName('lease');
    await hold(keeper(prefix, 'a:1'));
    const stop = new AbortController();
    const waiting = keeper(prefix, 'b:2').acquire(stop.signal);
    stop.abort();
    expect(await waiting).toBeUndefined();
  });
});
