import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { freePort } from '../../src/service/redis-server.js';
import { runCli } from '../support/cli.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim, type SimPackage } from '../../src/standins/faspex-sim/index.js';
import { completedTransfers } from '../../src/standins/fake-ascp/records.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { completePackages, killLeftoverAscp, partialFiles, waitForRunning } from '../support/proof.js';
import { startRedisCluster, startSentinelSet, type RedisClusterSet, type SentinelSet } from '../support/redis-topology.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * `faspex-ingest run` on a replicated Redis while the master changes under it, in the middle of
 * downloads, with mail arriving around the failover: a SENTINEL FAILOVER, and a CLUSTER
 * FAILOVER of the master that holds the queues' slot. Every package must complete exactly once
 * (one manifest, one transfer that ran to its end in the fake ascp's own log) and every mail
 * must be read (each one's package is there).
 */
interface Shape {
  name: string;
  start(root: string): Promise<{ env: Record<string, string>; prefix: string; failover(): Promise<void>; keys(): Promise<string[]>; stop(): Promise<void> }>;
}

const sentinelShape: Shape = {
  name: 'Sentinel',
  async start(root) {
    const set: SentinelSet = await startSentinelSet(root);
    const prefix = uniqueName('failover-sentinel');
    return {
      prefix,
      env: {
        REDIS_URL: `redis://:${set.masterPassword}@sentinel-master`,
        REDIS_SENTINELS: set.sentinelList,
        REDIS_SENTINEL_MASTER: set.master,
        REDIS_SENTINEL_PASSWORD: set.sentinelPassword,
        QUEUE_PREFIX: prefix,
      },
      failover: () => set.failover(),
      keys: async () => {
        const c = new Redis({ host: '127.0.0.1', port: await set.masterPort(), password: set.masterPassword });
        try {
          return await c.keys('*');
        } finally {
          c.disconnect();
        }
      },
      stop: () => set.stop(),
    };
  },
};

const clusterShape: Shape = {
  name: 'Cluster',
  async start(root) {
    const cluster: RedisClusterSet = await startRedisCluster(root);
    const prefix = `{${uniqueName('failover-cluster')}}`;
    return {
      prefix,
      env: { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodeList, QUEUE_PREFIX: prefix },
      failover: async () => void (await cluster.failover(`${prefix}:downloads:id`)),
      // every key on every node: with the {hash tag} they must all sit on the one master
      keys: async () => {
        const all: string[] = [];
        for (const n of cluster.nodes) {
          const c = n.client();
          try {
            const role = String(await c.call('ROLE'));
            if (role.startsWith('master')) all.push(...(await c.keys('*')));
          } finally {
            c.disconnect();
          }
        }
        return all;
      },
      stop: () => cluster.stop(),
    };
  },
};

describe.each([sentinelShape, clusterShape])('failover of the Redis $name master during downloads', (shape) => {
  let redis: Awaited<ReturnType<Shape['start']>>;
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let env: Record<string, string>;
  let service: ServiceProcess;
  // the completion webhook's notices go through a queue of their own: its keys count too
  let receiver: Server;
  const notices: Array<{ downloadJobId?: string; outcome?: string; manifest?: { title?: string } }> = [];
  const dir = tempDir('failover');

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        notices.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/done`;
    [redis, dovecot, sim] = await Promise.all([shape.start(dir.path), startDovecot(), createFaspexSim()]);
    env = serviceEnv({
      redisUrl: '', prefix: redis.prefix, dovecot, sim, dir: dir.path, dashboardPort: await freePort(),
      extra: { ...redis.env, COMPLETION_WEBHOOK_URL: hook, FAKE_ASCP_RATE_BPS: '300000', WORKER_CONCURRENCY: '3', WORKER_LOCK_SECONDS: '10', IMAP_RESYNC_SECONDS: '10' },
    });
    if (!env.REDIS_URL) delete env.REDIS_URL;
    service = startServiceProcess(['run'], env, dir.path);
    await waitForRunning(service);
  }, 90_000);

  afterAll(async () => {
    await service?.stop('SIGKILL');
    if (env) killLeftoverAscp(env.FAKE_ASCP_STATE_DIR!);
    await Promise.all([dovecot?.stop(), sim?.close(), redis?.stop(), new Promise((r) => receiver?.close(r))]);
    dir.remove();
  });

  const mail = (pkg: SimPackage, id: string) => faspex4Notification({ link: pkg.links.external, title: pkg.title, messageId: `<${id}@faspex.example.com>` });

  it('completes every package exactly once and reads every mail', async () => {
    const downloads = env.DOWNLOAD_DIR!;
    const before = [0, 1, 2].map((i) => sim.addPackage({ title: `${shape.name} before ${i}`, files: { 'big.bin': 600_000 } }));
    for (const [i, p] of before.entries()) await dovecot.deliver(mail(p, `${shape.name}-b${i}`));
    await waitFor(() => partialFiles(downloads).some((f) => f.size > 0), { what: 'a transfer under way', intervalMs: 10, timeoutMs: 30_000 });

    const failover = redis.failover();
    // mail that arrives while the master changes must wait, not vanish
    const during = [0, 1].map((i) => sim.addPackage({ title: `${shape.name} during ${i}`, files: { 'small.bin': 150_000 } }));
    for (const [i, p] of during.entries()) await dovecot.deliver(mail(p, `${shape.name}-d${i}`));
    await failover;
    const after = sim.addPackage({ title: `${shape.name} after`, files: { 'small.bin': 100_000 } });
    await dovecot.deliver(mail(after, `${shape.name}-a`));

    const all = [...before, ...during, after];
    await waitFor(() => completePackages(downloads).length === all.length, { what: 'every package', timeoutMs: 90_000, intervalMs: 100 }).catch((e) => {
      throw new Error(`${(e as Error).message}; the service said:\n${service.output().slice(-4000)}`);
    });
    expect(service.child.exitCode).toBeNull();
    const done = completePackages(downloads);
    expect(done.map((c) => c.manifest.title).sort()).toEqual(all.map((p) => p.title).sort());
    // exactly once: one transfer per package ran to its end (a resumed attempt may have started, none finished twice)
    expect(completedTransfers(env.FAKE_ASCP_STATE_DIR!, all.map((p) => p.uuid))).toEqual(Object.fromEntries(all.map((p) => [p.uuid, 1])));
    // The manifest is written just before the job completes in Redis. A completion the old master
    // acknowledged but never replicated is lost with it: the job then counts as stalled, and is
    // found so only once its lock (WORKER_LOCK_SECONDS=10) ran out and the stalled check (as often
    // as the lock, worker-manager.ts) ran; its second run finds the manifest and completes without
    // a transfer.
    let lastCounts = '';
    await waitFor(async () => {
      const r = await runCli(['status', '--json'], { env, cwd: dir.path });
      if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`);
      const counts = JSON.parse(r.stdout).queues.downloads;
      lastCounts = JSON.stringify(counts);
      return counts.completed === all.length && counts.failed === 0;
    }, { what: 'status to show every package completed', timeoutMs: 90_000 }).catch((e) => {
      throw new Error(`${(e as Error).message}; status said ${lastCounts}`);
    });

    await waitFor(() => new Set(notices.map((n) => n.manifest?.title)).size === all.length, { what: 'a completion notice per package', timeoutMs: 30_000 });
    const keys = await redis.keys();
    expect(keys.some((k) => k.startsWith(`${redis.prefix}:notifications:`))).toBe(true);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !k.startsWith(`${redis.prefix}:`))).toEqual([]);
  }, 240_000);
});
