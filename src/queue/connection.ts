/**
 * Redis connections for BullMQ. Workers and QueueEvents need `maxRetriesPerRequest: null`
 * (they block and must ride out a Redis restart); producers fail fast instead
 * (`enableOfflineQueue: false`) so a mail is never marked handled on a job that was not stored.
 */
import { Redis, type RedisOptions } from 'ioredis';

export type ConnectionRole = 'producer' | 'worker';

export function redisConnection(url: string, role: ConnectionRole, extra: RedisOptions = {}): Redis {
  const common: RedisOptions = {
    // BullMQ's own strategy: exponential, 1-20 s
    retryStrategy: (times) => Math.min(1000 * 2 ** Math.min(times, 5), 20_000),
    connectionName: `faspex-ingest-${role}`,
    lazyConnect: false,
    ...extra,
  };
  return role === 'worker'
    ? new Redis(url, { ...common, maxRetriesPerRequest: null })
    : new Redis(url, { ...common, maxRetriesPerRequest: 3, enableOfflineQueue: false });
}

/** Resolves once the connection is ready, or rejects with a message naming the server. */
export async function waitReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis at ${describe(redis)} did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

function describe(redis: Redis): string {
  const o = redis.options;
  return o.path ?? `${o.host}:${o.port}`;
}
