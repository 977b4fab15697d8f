/**
 * Where the queues live, and the way to every connection to them. With REDIS_URL,
 * REDIS_SENTINELS or REDIS_CLUSTER_NODES set, there (see src/queue/redis-shape.ts). Without
 * any, `run` starts a local redis-server with its data (append-only file) in DATA_DIR/redis and
 * a unix socket beside it; the other local commands (`status`, `enqueue`, `listen`, `work`,
 * `dashboard`) find that socket, so a single machine needs no Redis set-up at all.
 *
 * Every Redis client of the service comes from `RedisTarget.connect` (or `createRedisClient` of
 * src/queue/connection.ts with the target's shape).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisOptions } from 'ioredis';
import type { Config } from '../config/config.js';
import { IngestError } from '../errors.js';
import { registerSecret } from '../log/secrets.js';
import { createRedisClient, type ConnectionRole, type RedisClient } from '../queue/connection.js';
import { describeShape, redisShape, type RedisShape } from '../queue/redis-shape.js';
import { startEmbeddedRedis, SOCKET } from './embedded-redis.js';
import { failpointSwitch } from './failpoints.js';
import { redisAnswers, type RedisServer } from './redis-server.js';

export interface RedisTarget {
  shape: RedisShape;
  /** for people: never shows a password */
  description: string;
  /** set when this process started the server; stop it on exit */
  embedded?: RedisServer;
  /**
   * Replicas that must confirm a mail's jobs before the mail counts as handled: REDIS_WAIT_REPLICAS,
   * or 1 with Sentinel and Cluster (a failover may drop writes the old master acknowledged), 0
   * for one server.
   */
  replicaAcks: number;
  /** a new client of this target; the caller closes it */
  connect(role: ConnectionRole, extra?: RedisOptions): RedisClient;
}

export function embeddedRedisDir(config: Config): string {
  return join(config.dataDir, 'redis');
}

/** The configured Redis, or undefined when the config names none (REDIS_URL etc. unset). */
function configuredShape(config: Config): RedisShape | undefined {
  const r = config.redis;
  let ca: string | undefined;
  if (r.caFile) {
    try {
      ca = readFileSync(r.caFile, 'utf8');
    } catch (e) {
      // say why (missing, no permission, a directory): "cannot be read" alone sends people guessing
      throw new IngestError('CONFIG', `REDIS_CA_FILE ${r.caFile} cannot be read: ${(e as Error).message}`, { retry: 'never' });
    }
  }
  for (const s of [r.sentinelPassword, passwordOf(r.url)]) if (s) registerSecret(s);
  return redisShape(r, ca);
}

export function targetOf(shape: RedisShape, embedded?: RedisServer, waitReplicas?: number): RedisTarget {
  const replicaAcks = waitReplicas ?? (shape.kind === 'sentinel' || shape.kind === 'cluster' ? 1 : 0);
  return { shape, description: describeShape(shape), embedded, replicaAcks, connect: (role, extra) => createRedisClient(shape, role, extra) };
}

/** A target for one redis:// or rediss:// URL (tests, tools). */
export function targetFromUrl(url: string, caPem?: string): RedisTarget {
  return targetOf(redisShape({ url, prefix: '' }, caPem)!);
}

/**
 * For `run`: the configured Redis, or a local redis-server this process owns (one left behind by
 * a process that died is saved and replaced: src/service/embedded-redis.ts).
 */
export async function startOrConnectRedis(config: Config, note?: (message: string, fields: Record<string, unknown>) => void): Promise<RedisTarget> {
  const shape = configuredShape(config);
  if (shape) return targetOf(shape, undefined, config.redis.waitReplicas);
  const dir = embeddedRedisDir(config);
  const server = await startEmbeddedRedis(dir, { note, dieWithParent: !failpointSwitch('embedded-redis.without-parent-death-signal') });
  const target = targetOf({ kind: 'socket', path: server.socketPath! }, server);
  return { ...target, description: `local redis-server (data in ${dir})` };
}

/** For the other commands: the configured Redis, or the socket of a running `run` on this machine. */
export async function connectRedisTarget(config: Config): Promise<RedisTarget> {
  const shape = configuredShape(config);
  if (shape) return targetOf(shape, undefined, config.redis.waitReplicas);
  const socket = join(embeddedRedisDir(config), SOCKET);
  if (await socketAnswers(socket)) return targetOf({ kind: 'socket', path: socket });
  throw new IngestError(
    'CONFIG',
    `REDIS_URL is unset and no \`faspex-ingest run\` is running with DATA_DIR=${config.dataDir}; start \`faspex-ingest run\` first, or set REDIS_URL`,
    { retry: 'never' },
  );
}

function passwordOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return existsSync(path) ? redisAnswers({ path }, 1000) : Promise.resolve(false);
}
