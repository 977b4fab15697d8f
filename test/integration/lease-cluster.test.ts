import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { parsePackageLink } from '../../src/faspex/link.js';
import { LeaseKeeper, LeaseLostError } from '../../src/lease/lease-keeper.js';
import { leaseTimings } from '../../src/lease/lease-policy.js';
import { RedisLeaseStore } from '../../src/lease/lease-store.js';
import { MailboxState, mailboxKey } from '../../src/mail/mailbox-state.js';
import { waitReady, type RedisClient } from '../../src/queue/connection.js';
import { enqueueDownloads } from '../../src/queue/producer.js';
import { QUEUE, type DownloadJobData } from '../../src/queue/queues.js';
import { connectRedisTarget } from '../../src/service/redis-target.js';
import { startRedisCluster, type RedisClusterSet } from '../support/redis-topology.js';
import { tempDir, uniqueName } from '../support/temp.js';

/**
 * The standby lease and its fenced writes on a three-master Redis Cluster: with a {hash tag}
 * prefix the lease, the fencing counter, the progress and the jobs share one slot, so the scripts
 * and the WATCH/MULTI of the fenced enqueue run there as on one server.
 */
describe('listener lease on Redis Cluster', () => {
  const dir = tempDir('lease-cluster');
  let cluster: RedisClusterSet;
  const clients: RedisClient[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster(dir.path);
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await cluster?.stop();
    dir.remove();
  });

  it('acquires, fences the enqueue and the progress, and refuses both after a takeover', async () => {
    const prefix = `{${uniqueName('lease')}}`;
    const config = loadConfig({ FASPEX_ALLOWED_HOSTS: 'faspex.example.com', QUEUE_PREFIX: prefix, REDIS_CLUSTER_NODES: cluster.nodeList, LOG_LEVEL: 'warn' }, 'work');
    const target = await connectRedisTarget(config);
    const connect = (role: 'producer' | 'worker') => {
      const c = target.connect(role);
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    };
    const redis = connect('worker');
    await waitReady(redis, 10_000, target.description);
    const store = new RedisLeaseStore(redis, prefix, 'a');
    const held = (await new LeaseKeeper({ store, timings: leaseTimings(60_000), owner: 'a:1' }).acquire(new AbortController().signal))!;
    expect(held.token).toBe(1);

    const producer = connect('producer');
    await waitReady(producer, 10_000, target.description);
    const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: producer, prefix });
    const link = (n: number) => parsePackageLink(`https://faspex.example.com/aspera/faspex/external_deliveries/${n}?passcode=${'cd'.repeat(20)}`);
    const added = await enqueueDownloads(queue, [{ link: link(1), source: { type: 'mail', inbox: 'a' } }], { attempts: 1 }, { fence: held, folder: 'a' });
    expect(added.map((r) => r.added)).toEqual([true]);
    const state = new MailboxState(redis, mailboxKey(prefix, 'u', 'h', 'INBOX'), held);
    await state.save({ uidValidity: '1', lastUid: 3 });
    expect(await state.load()).toEqual({ uidValidity: '1', lastUid: 3 });

    // a standby takes over while this holder is cut off
    await redis.del(held.leaseKey);
    expect(await store.acquire('b:2', 60_000)).toMatchObject({ acquired: true, token: 2 });
    await expect(enqueueDownloads(queue, [{ link: link(2), source: { type: 'mail' } }], { attempts: 1 }, { fence: held })).rejects.toThrow(LeaseLostError);
    await expect(state.save({ uidValidity: '1', lastUid: 1 })).rejects.toThrow(LeaseLostError);
    expect(await state.load()).toEqual({ uidValidity: '1', lastUid: 3 });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    await queue.close();
  });
});
