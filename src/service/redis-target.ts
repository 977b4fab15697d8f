/**
 * Where the queues live. With REDIS_URL set, there. Without it, `run` starts a local
 * redis-server with its data (append-only file) in DATA_DIR/redis and a unix socket beside it;
 * the other local commands (`status`, `enqueue`, `listen`, `work`, `dashboard`) find that
 * socket, so a single machine needs no Redis set-up at all.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { IngestError } from '../errors.js';
import { redisAnswers, startRedisServer, type RedisServer } from './redis-server.js';

export interface RedisTarget {
  /** a redis:// URL or a unix socket path, as ioredis takes them */
  connection: string;
  /** for people: never shows a password */
  description: string;
  /** set when this process started the server; stop it on exit */
  embedded?: RedisServer;
}

export function embeddedRedisDir(config: Config): string {
  return join(config.dataDir, 'redis');
}

/** For `run`: REDIS_URL, or a local redis-server this process owns. */
export async function startOrConnectRedis(config: Config): Promise<RedisTarget> {
  if (config.redis.url) return fromUrl(config.redis.url);
  const dir = embeddedRedisDir(config);
  const socket = join(dir, 'redis.sock');
  if (await socketAnswers(socket)) {
    throw new IngestError('CONFIG', `another faspex-ingest is already running a Redis in ${dir}; stop it, use another DATA_DIR, or set REDIS_URL`, { retry: 'never' });
  }
  const server = await startRedisServer({ dir, appendOnly: true, unixSocket: true });
  return { connection: server.socketPath!, description: `local redis-server (data in ${dir})`, embedded: server };
}

/** For the other commands: REDIS_URL, or the socket of a running `run` on this machine. */
export async function connectRedisTarget(config: Config): Promise<RedisTarget> {
  if (config.redis.url) return fromUrl(config.redis.url);
  const socket = join(embeddedRedisDir(config), 'redis.sock');
  if (await socketAnswers(socket)) return { connection: socket, description: `local redis-server (${socket})` };
  throw new IngestError(
    'CONFIG',
    `REDIS_URL is unset and no \`faspex-ingest run\` is running with DATA_DIR=${config.dataDir}; start \`faspex-ingest run\` first, or set REDIS_URL`,
    { retry: 'never' },
  );
}

function fromUrl(url: string): RedisTarget {
  const u = new URL(url);
  return { connection: url, description: `${u.protocol}//${u.hostname}:${u.port || 6379}` };
}

function socketAnswers(path: string): Promise<boolean> {
  return existsSync(path) ? redisAnswers({ path }, 1000) : Promise.resolve(false);
}
