import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { parsePackageLink } from '../../src/faspex/link.js';
import { LeaseKeeper, LeaseLostError } from '../../src/lease/lease-keeper.js';
import { leaseTimings } from '../../src/lease/lease-policy.js';
import { RedisLeaseStore, leaseKeys } from '../../src/lease/lease-store.js';
import { MailboxState, mailboxKey } from '../../src/mail/mailbox-state.js';
import { enqueueDownloads, type EnqueueFence } from '../../src/queue/producer.js';
import { QUEUE, type DownloadJobData } from '../../src/queue/queues.js';
import { uniqueName } from '../support/temp.js';

/**
 * Queuing under a lease: the adds happen only while the lease is this listener's, checked by
 * Redis in the same transaction, so a listener that woke after its successor took over queues
 * nothing, even when the takeover lands between its check and its adds.
 */
describe('enqueue fenced by the inbox lease', () => {
  let redis: Redis;
  let own: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
    own = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await Promise.all([redis.quit(), own.quit()]);
  });

  const link = (n: number) => parsePackageLink(`https://faspex.example.com/aspera/faspex/external_deliveries/${n}?passcode=${'ab'.repeat(20)}`);
  const item = (n: number) => ({ link: link(n), source: { type: 'mail' as const, inbox: 'a' } });

  async function setup() {
    const prefix = uniqueName('fence');
    const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: own, prefix });
    const store = new RedisLeaseStore(redis, prefix, 'a');
    const won = await store.acquire('a:1', 60_000);
    if (!won.acquired) throw new Error('no lease');
    const keys = leaseKeys(prefix, 'a');
    const fence: EnqueueFence = { fenceKey: keys.fence, leaseKey: keys.lease, holder: won.holder, lost: (r) => new Error(`lost: ${r}`) };
    return { prefix, queue, store, fence, keys };
  }

  it('queues while the lease is held, and reports what was new', async () => {
    const { queue, fence } = await setup();
    expect(await enqueueDownloads(queue, [item(1), item(2)], { attempts: 1 }, { fence, folder: 'a' })).toEqual([
      { jobId: expect.stringContaining('1'), added: true },
      { jobId: expect.stringContaining('2'), added: true },
    ]);
    expect((await enqueueDownloads(queue, [item(2), item(3)], { attempts: 1 }, { fence })).map((r) => r.added)).toEqual([false, true]);
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 3 });
    expect((await queue.getWaiting()).find((j) => j.id!.includes('1'))!.data).toMatchObject({ folder: 'a', source: { inbox: 'a' } });
    await queue.close();
  });

  it('queues nothing once another listener holds the lease', async () => {
    const { queue, fence, store, keys } = await setup();
    await redis.del(keys.lease);
    await store.acquire('b:2', 60_000);
    await expect(enqueueDownloads(queue, [item(1)], { attempts: 1 }, { fence })).rejects.toThrow("lost: the lease is no longer this listener's; nothing was queued");
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
    await queue.close();
  });

  it('queues nothing when the takeover lands between the check and the adds', async () => {
    const { queue, fence, store, keys } = await setup();
    const backend = queue.getBackend();
    const original = backend.addJobToTransaction.bind(backend);
    let once = false;
    vi.spyOn(backend, 'addJobToTransaction').mockImplementation(async (...args) => {
      if (!once) {
        once = true;
        // the old holder was paused here; meanwhile its lease expired and a standby won it
        await redis.del(keys.lease);
        await store.acquire('b:2', 60_000);
      }
      return original(...args);
    });
    await expect(enqueueDownloads(queue, [item(1), item(2)], { attempts: 1 }, { fence })).rejects.toThrow('lost: another listener took the lease while these jobs were being queued; nothing was queued');
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
    // the connection is usable afterwards, without a WATCH left over
    expect(await own.ping()).toBe('PONG');
    await queue.close();
  });
});

describe('mailbox progress fenced by the inbox lease', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('is recorded while the lease is held, and refused (unchanged) once another listener holds it', async () => {
    const prefix = uniqueName('fence');
    const store = new RedisLeaseStore(redis, prefix, 'a');
    const keeper = new LeaseKeeper({ store, timings: leaseTimings(60_000), owner: 'a:1' });
    const held = (await keeper.acquire(new AbortController().signal))!;
    const key = mailboxKey(prefix, 'u', 'h', 'INBOX');
    const state = new MailboxState(redis, key, held);
    const skip = { uid: 3, uidValidity: '7', kind: 'refused' as const, reason: 'r', at: 'now' };
    await state.saveChunk({ uidValidity: '7', lastUid: 5 }, [skip]);
    expect(await state.load()).toEqual({ uidValidity: '7', lastUid: 5 });
    expect(await state.skipped()).toEqual([skip]);

    // the successor moved on while this listener was paused
    await redis.del(held.leaseKey);
    const next = await store.acquire('b:2', 60_000);
    const successor = new MailboxState(redis, key, { leaseKey: held.leaseKey, holder: next.holder, lost: (r) => new LeaseLostError(r), assertHeld: () => undefined });
    await successor.save({ uidValidity: '7', lastUid: 9 });

    await expect(state.saveChunk({ uidValidity: '7', lastUid: 6 }, [{ ...skip, uid: 6 }])).rejects.toThrow(LeaseLostError);
    expect(held.signal.aborted).toBe(true);
    expect(await state.load()).toEqual({ uidValidity: '7', lastUid: 9 });
    expect((await state.skipped()).map((s) => s.uid)).toEqual([3]);
    await expect(state.save({ uidValidity: '7', lastUid: 1 })).rejects.toThrow(LeaseLostError);
  });
});
