/**
 * The one factory of Redis clients (every ioredis client of the service comes from here), for
 * each shape of redis-shape.ts: one server over TCP, TLS or a unix socket, a Sentinel-managed
 * master, or a Cluster.
 *
 * Roles: workers, QueueEvents and the listener's state need `maxRetriesPerRequest: null` (they
 * block and must ride out a Redis restart or failover); producers fail fast instead
 * (`enableOfflineQueue: false`) so a mail is never marked handled on a job that was not stored.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import { evictionProblem, policyFromInfo, type RedisAuth, type RedisShape } from './redis-shape.js';

export type ConnectionRole = 'producer' | 'worker';
/** What the service holds: the commands are the same on both. */
export type RedisClient = Redis | Cluster;

// Exponential from 100 ms to 20 s: a failover or restart is over in a second or two, and the
// first retries find the new master at once (starting at 2 s made every failover last 2 s);
// a long outage still ends up at one try per 20 s.
const defaultRetry = (times: number) => Math.min(100 * 2 ** Math.min(Math.max(times - 1, 0), 8), 20_000);

export function createRedisClient(shape: RedisShape, role: ConnectionRole, extra: RedisOptions = {}): RedisClient {
  const roleOptions: RedisOptions =
    role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 3, enableOfflineQueue: false };
  const common: RedisOptions = {
    retryStrategy: defaultRetry,
    connectionName: `faspex-ingest-${role}`,
    lazyConnect: false,
    ...roleOptions,
    ...extra,
  };
  switch (shape.kind) {
    case 'socket':
      return new Redis({ ...common, path: shape.path });
    case 'server':
      return new Redis({ ...common, ...credentials(shape), host: shape.host, port: shape.port, db: shape.db, tls: tlsOf(shape) });
    case 'sentinel':
      return new Redis({
        ...common,
        ...credentials(shape),
        sentinels: shape.sentinels,
        name: shape.master,
        db: shape.db,
        sentinelPassword: shape.sentinelPassword,
        // Sentinels answer quickly or not at all; a failover is noticed on the next reconnect.
        sentinelRetryStrategy: (times) => Math.min(250 * times, 5000),
        // After a failover the old master, turned replica, drops its clients and refuses writes
        // (READONLY): either way the client asks the sentinels again. (ioredis' failoverDetector
        // is not used: its sentinel subscriptions outlive quit() and keep a process alive.)
        reconnectOnError: readonlyReconnect,
        ...(shape.tls ? { tls: tlsOf(shape), enableTLSForSentinelMode: true, sentinelTLS: tlsOf(shape) } : {}),
        ...extra,
      });
    case 'cluster': {
      const { retryStrategy, enableOfflineQueue, ...perNode } = common;
      const options: ClusterOptions = {
        redisOptions: { ...perNode, ...credentials(shape), tls: tlsOf(shape) },
        clusterRetryStrategy: retryStrategy === undefined || retryStrategy === null ? defaultRetry : (times) => retryStrategy(times) ?? null,
        enableOfflineQueue: enableOfflineQueue ?? true,
        enableReadyCheck: true,
        // a master failover moves slots: follow MOVED at once, and retry TRYAGAIN/CLUSTERDOWN
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 300,
        retryDelayOnTryAgain: 200,
        // Managed clusters (ElastiCache, Azure) announce nodes by host name and their TLS
        // certificates carry names, not addresses: connect by the name, so TLS checks it.
        ...(shape.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
      };
      return new Cluster(shape.nodes, options);
    }
  }
}

function credentials(a: RedisAuth): Pick<RedisOptions, 'username' | 'password'> {
  return { ...(a.username ? { username: a.username } : {}), ...(a.password ? { password: a.password } : {}) };
}

function tlsOf(a: RedisAuth): ConnectionOptions | undefined {
  if (!a.tls) return undefined;
  return { ...(a.ca ? { ca: a.ca } : {}), ...(a.servername ? { servername: a.servername } : {}) };
}

/** A write that reached a replica (the old master after a failover): reconnect and resend. */
function readonlyReconnect(err: Error): 2 | false {
  return /READONLY|UNBLOCKED/.test(err.message) ? 2 : false;
}

/** Resolves once the connection is ready, or rejects with a message naming the server. */
export async function waitReady(redis: RedisClient, timeoutMs = 10_000, where?: string): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis at ${where ?? describeClient(redis)} did not answer within ${timeoutMs / 1000} s${lastError ? ` (${lastError.message})` : ''}`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onError = (e: Error) => {
      lastError = e;
    };
    // a client told not to retry ends after its first failure: say why at once
    const onEnd = () => {
      cleanup();
      reject(new Error(`Redis at ${where ?? describeClient(redis)} refused the connection: ${lastError?.message ?? 'closed'}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
    };
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('end', onEnd);
  });
}

function describeClient(redis: RedisClient): string {
  if (redis instanceof Cluster) return 'Redis Cluster';
  const o = redis.options;
  if (o.sentinels) return `Sentinel master "${o.name}"`;
  return o.path ?? `${o.host}:${o.port}`;
}


/**
 * Refuses a Redis that may evict keys (see evictionProblem). CONFIG is often denied on managed
 * services (ACL, or renamed): INFO memory carries the same policy. In a Cluster every master is
 * asked. Resolves with a note when neither answer told the policy (the caller logs it).
 */
export async function checkEvictionPolicy(redis: RedisClient, where: string): Promise<{ policy: string | undefined; note?: string }> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  // every master, at once: one that did not tell its policy must not keep the others unasked
  const policies = await Promise.all(nodes.map((node) => policyOf(node)));
  policies.forEach((policy, i) => {
    const node = nodes[i]!;
    const problem = evictionProblem(policy, redis instanceof Cluster ? `${where} (node ${node.options.host}:${node.options.port})` : where);
    if (problem) throw new Error(problem);
  });
  if (policies.includes(undefined)) return { policy: undefined, note: `could not read maxmemory-policy from Redis at ${where} (CONFIG GET and INFO memory refused); make sure it is noeviction` };
  return { policy: policies[0] };
}

async function policyOf(node: Redis): Promise<string | undefined> {
  try {
    const reply = (await node.call('CONFIG', 'GET', 'maxmemory-policy')) as string[] | Record<string, string>;
    const value = Array.isArray(reply) ? reply[1] : reply['maxmemory-policy'];
    if (value) return value;
  } catch {
    // NOPERM, or CONFIG renamed away: ask INFO instead
  }
  try {
    return policyFromInfo(await node.info('memory'));
  } catch {
    return undefined;
  }
}
