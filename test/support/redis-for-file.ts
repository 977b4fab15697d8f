/**
 * A test file's own connection to the test Redis and the cleanups its tests register: the
 * connection is opened before the file's tests and closed after them (maxRetriesPerRequest null,
 * as BullMQ asks); the cleanups run newest first after each test, one that fails not keeping the
 * others from running.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';

export interface RedisForFile {
  /** open from the file's beforeAll to its afterAll */
  readonly redis: Redis;
  readonly cleanups: (() => Promise<unknown>)[];
}

export function redisForFile(): RedisForFile {
  let redis: Redis | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  afterAll(async () => {
    await redis?.quit();
  });
  return {
    get redis() {
      if (!redis) throw new Error('the file\'s Redis connection is open only while its tests run');
      return redis;
    },
    cleanups,
  };
}
