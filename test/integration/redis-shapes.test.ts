import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { maskText } from '../../src/log/secrets.js';
import { waitReady, type RedisClient } from '../../src/queue/connection.js';
import { connectRedisTarget } from '../../src/service/redis-target.js';
import { openServiceContext } from '../../src/service/service-context.js';
import { startRedisCluster, startSentinelSet, startTlsRedis, type RedisClusterSet, type SentinelSet, type TlsRedis } from '../support/redis-topology.js';
import { createTestCa, getTestCa, type TestCa } from '../../src/standins/test-ca.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * The connection factory against the real shapes: TLS-only with a private CA and an ACL user,
 * Sentinel with separate master and sentinel passwords (followed across SENTINEL FAILOVER), a
 * Cluster; and the start-up refusals (eviction policy, with and without CONFIG allowed).
 */
const logs: string[] = [];
const logger = createLogger({ level: 'warn', destination: { write: (s: string) => void logs.push(s) } });
const baseEnv = { FASPEX_ALLOWED_HOSTS: 'f.example.com', LOG_LEVEL: 'warn' };

async function roundTrip(connect: () => RedisClient, prefix: string): Promise<string> {
  const name = 'shape-check';
  const producer = connect();
  const queue = new Queue(name, { connection: producer, prefix });
  const eventsConn = connect();
  const events = new QueueEvents(name, { connection: eventsConn, prefix });
  const workerConn = connect();
  const worker = new Worker(name, async (job) => `done ${job.data.n}`, { connection: workerConn, prefix });
  try {
    await events.waitUntilReady();
    const job = await queue.add('x', { n: 7 });
    return (await job.waitUntilFinished(events, 15_000)) as string;
  } finally {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    for (const c of [producer, eventsConn, workerConn]) c.disconnect();
  }
}

describe('Redis over TLS with a private CA and an ACL user', () => {
  const dir = tempDir('redis-tls');
  let ca: TestCa;
  let redis: TlsRedis;
  beforeAll(async () => {
    ca = await getTestCa();
    redis = await startTlsRedis(dir.path, ca);
  });
  afterAll(async () => {
    await redis?.stop();
    dir.remove();
  });

  it('queues and processes a job through rediss:// with REDIS_CA_FILE', async () => {
    const prefix = uniqueName('tls');
    const config = loadConfig({ ...baseEnv, REDIS_URL: redis.url, REDIS_CA_FILE: ca.caFile, QUEUE_PREFIX: prefix }, 'work');
    const target = await connectRedisTarget(config);
    expect(target.description).toBe(`rediss://ingest@127.0.0.1:${redis.port}`);
    const ctx = await openServiceContext(config, logger, target);
    try {
      expect(await ctx.redis.ping()).toBe('PONG');
      expect(await roundTrip(() => target.connect('worker'), prefix)).toBe('done 7');
    } finally {
      await ctx.close();
    }
    // the password was registered as a secret: it never reaches a log line
    expect(maskText(`auth ${redis.password}`)).not.toContain(redis.password);
  });

  it('refuses a server whose certificate the CA did not sign, and a wrong password', async () => {
    const other = await createTestCa('other');
    const untrusted = await connectRedisTarget(loadConfig({ ...baseEnv, REDIS_URL: redis.url, REDIS_CA_FILE: other.caFile }, 'work'));
    const c1 = untrusted.connect('producer', { retryStrategy: () => null });
    c1.on('error', () => undefined);
    await expect(waitReady(c1, 5000, untrusted.description)).rejects.toThrow(/(certificate|self.signed|unable to verify)/i);
    c1.disconnect();

    const wrong = await connectRedisTarget(loadConfig({ ...baseEnv, REDIS_URL: redis.url.replace(redis.password, 'nope'), REDIS_CA_FILE: ca.caFile }, 'work'));
    const c2 = wrong.connect('producer', { retryStrategy: () => null });
    c2.on('error', () => undefined);
    await expect(waitReady(c2, 5000, wrong.description)).rejects.toThrow(/WRONGPASS|invalid username-password/i);
    c2.disconnect();

    // and a plain redis:// to a TLS-only server gets nowhere
    const plain = await connectRedisTarget(loadConfig({ ...baseEnv, REDIS_URL: redis.url.replace('rediss:', 'redis:') }, 'work'));
    const c3 = plain.connect('producer', { retryStrategy: () => null });
    c3.on('error', () => undefined);
    await expect(waitReady(c3, 3000, plain.description)).rejects.toThrow();
    c3.disconnect();
  });

  it('refuses maxmemory-policy allkeys-lru at start, also when CONFIG is denied (INFO tells), and warns when neither answers', async () => {
    const admin = redis.client();
    try {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await admin.call('ACL', 'SETUSER', 'noconfig', 'on', '>noconfig-Secret', '~*', '&*', '+@all', '-config');
      await admin.call('ACL', 'SETUSER', 'noinfo', 'on', '>noinfo-Secret', '~*', '&*', '+@all', '-config', '-info');
      const open = (user: string, pw: string) =>
        connectRedisTarget(loadConfig({ ...baseEnv, REDIS_URL: `rediss://${user}:${pw}@127.0.0.1:${redis.port}`, REDIS_CA_FILE: ca.caFile }, 'work')).then((t) =>
          openServiceContext(loadConfig({ ...baseEnv }, 'work'), logger, t),
        );
      await expect(open(redis.user, redis.password)).rejects.toThrow(/maxmemory-policy allkeys-lru.*noeviction/);
      await expect(open('noconfig', 'noconfig-Secret')).rejects.toThrow(/maxmemory-policy allkeys-lru.*noeviction/);
      logs.length = 0;
      const ctx = await open('noinfo', 'noinfo-Secret');
      await ctx.close();
      expect(logs.join('')).toMatch(/could not read maxmemory-policy/);

      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      const ok = await open(redis.user, redis.password);
      await ok.close();
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      admin.disconnect();
    }
  });
});

describe('Redis Sentinel', () => {
  const dir = tempDir('redis-sentinel');
  let set: SentinelSet;
  beforeAll(async () => {
    set = await startSentinelSet(dir.path);
  }, 60_000);
  afterAll(async () => {
    await set?.stop();
    dir.remove();
  });

  it('finds the master through the sentinels with their own password, and follows a SENTINEL FAILOVER', async () => {
    const prefix = uniqueName('sentinel');
    const config = loadConfig({
      ...baseEnv, QUEUE_PREFIX: prefix, REDIS_URL: `redis://:${set.masterPassword}@ignored`,
      REDIS_SENTINELS: set.sentinelList, REDIS_SENTINEL_MASTER: set.master, REDIS_SENTINEL_PASSWORD: set.sentinelPassword,
    }, 'work');
    const target = await connectRedisTarget(config);
    expect(target.description).toContain(`Sentinel master "${set.master}"`);
    const ctx = await openServiceContext(config, logger, target);
    const worker = target.connect('worker');
    try {
      expect(await roundTrip(() => target.connect('worker'), prefix)).toBe('done 7');
      const first = await set.masterPort();
      await worker.set(`${prefix}:probe`, 'before');
      await set.failover();
      expect(await set.masterPort()).not.toBe(first);
      // the same clients carry on against the new master (a write proves it is not the old one)
      await waitFor(async () => (await worker.set(`${prefix}:probe`, 'after')) === 'OK', { what: 'a write after the failover', timeoutMs: 20_000 });
      await waitFor(async () => (await ctx.redis.get(`${prefix}:probe`).catch(() => undefined)) === 'after', { what: 'the producer to follow', timeoutMs: 20_000 });
      expect(await roundTrip(() => target.connect('worker'), prefix)).toBe('done 7');
    } finally {
      worker.disconnect();
      await ctx.close();
    }
  }, 60_000);

  it('refuses a wrong sentinel password with the reason', async () => {
    const config = loadConfig({ ...baseEnv, REDIS_SENTINELS: set.sentinelList, REDIS_SENTINEL_MASTER: set.master, REDIS_SENTINEL_PASSWORD: 'nope', REDIS_URL: `redis://:${set.masterPassword}@x` }, 'work');
    const target = await connectRedisTarget(config);
    const c = target.connect('producer', { sentinelRetryStrategy: () => null } as object);
    c.on('error', () => undefined);
    await expect(waitReady(c, 5000, target.description)).rejects.toThrow(/Sentinel|WRONGPASS|All sentinels are unreachable/i);
    c.disconnect();
  });
});

describe('Redis Cluster', () => {
  const dir = tempDir('redis-cluster');
  let cluster: RedisClusterSet;
  beforeAll(async () => {
    cluster = await startRedisCluster(dir.path);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    dir.remove();
  });

  it('runs the queues with a {hash tag} prefix, every key in one slot', async () => {
    const prefix = `{${uniqueName('cluster')}}`;
    const config = loadConfig({ ...baseEnv, QUEUE_PREFIX: prefix, REDIS_CLUSTER_NODES: cluster.nodeList }, 'work');
    const target = await connectRedisTarget(config);
    const ctx = await openServiceContext(config, logger, target);
    try {
      expect(await roundTrip(() => target.connect('worker'), prefix)).toBe('done 7');
    } finally {
      await ctx.close();
    }
  });

  it('refuses a prefix without a hash tag, naming the fix', () => {
    expect(() => loadConfig({ ...baseEnv, QUEUE_PREFIX: 'faspex-ingest', REDIS_CLUSTER_NODES: cluster.nodeList }, 'work')).toThrow(/set QUEUE_PREFIX=\{faspex-ingest\}/);
  });
});

// keep the fixture helper honest: an unreadable CA file is refused before any connection
it('refuses an unreadable REDIS_CA_FILE', async () => {
  const dir = tempDir('redis-ca');
  const missing = join(dir.path, 'missing.pem');
  writeFileSync(join(dir.path, 'x'), '');
  await expect(connectRedisTarget(loadConfig({ ...baseEnv, REDIS_URL: 'rediss://h:1', REDIS_CA_FILE: missing }, 'work'))).rejects.toThrow(/REDIS_CA_FILE .* cannot be read/);
  dir.remove();
});
