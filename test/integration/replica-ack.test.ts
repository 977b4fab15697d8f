import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parsePackageLink } from '../../src/faspex/link.js';
import { enqueueDownloads } from '../../src/queue/producer.js';
import { QUEUE, type DownloadJobData } from '../../src/queue/queues.js';
import { targetOf } from '../../src/service/redis-target.js';
import { startSentinelSet, type SentinelSet } from '../support/redis-topology.js';
import { tempDir, uniqueName } from '../support/temp.js';

/**
 * A mail counts as queued only once a replica holds its jobs (REDIS_WAIT_REPLICAS): with the
 * replica frozen (SIGSTOP), the master still accepts the adds, but enqueue must refuse to call
 * them queued; thawed, the same enqueue succeeds and adds nothing twice.
 */
const dir = tempDir('replica-ack');
let set: SentinelSet;
beforeAll(async () => {
  set = await startSentinelSet(dir.path);
}, 60_000);
afterAll(async () => {
  set?.servers[1]?.child.kill('SIGCONT');
  await set?.stop();
  dir.remove();
});

it('refuses to call jobs queued until a replica confirms them', async () => {
  const target = targetOf({ kind: 'sentinel', master: set.master, sentinels: set.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), sentinelPassword: set.sentinelPassword, password: set.masterPassword, db: 0, tls: false });
  expect(target.replicaAcks).toBe(1);
  const conn = target.connect('producer');
  const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: conn, prefix: uniqueName('ack') });
  const link = parsePackageLink('https://faspex.example.com/aspera/faspex/external_deliveries/77?passcode=abcd1234');
  const items = [{ link, source: { type: 'cli' as const } }];
  const replicas = { count: target.replicaAcks, timeoutMs: 500 };
  try {
    const replica = set.servers[1]!;
    replica.child.kill('SIGSTOP');
    await expect(enqueueDownloads(queue, items, {}, { replicas })).rejects.toThrow(/only 0 of 1 replica\(s\) confirmed/);
    replica.child.kill('SIGCONT');
    const [again] = await enqueueDownloads(queue, items, {}, { replicas: { count: 1, timeoutMs: 5000 } });
    // the first add reached the master: the second one only confirms it, and is durable now
    expect(again).toMatchObject({ added: false });
    // without the requirement, the frozen replica would not have been noticed
    replica.child.kill('SIGSTOP');
    await expect(enqueueDownloads(queue, items, {}, {})).resolves.toHaveLength(1);
    replica.child.kill('SIGCONT');
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    conn.disconnect();
  }
}, 60_000);
