/**
 * Which Redis the service talks to, as plain data: one server (redis:// or rediss://, or the
 * embedded server's unix socket), a Sentinel-managed master, or a Cluster. Built from the
 * config alone, so the decisions (credentials go to the master, TLS from the scheme, the
 * Cluster prefix must be a {hash tag}) have table-driven tests; connection.ts turns a shape into
 * ioredis clients. Pure: the CA file's content is passed in, never read here.
 */
import { IngestError } from '../errors.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface RedisAuth {
  username?: string;
  password?: string;
  /** PEM of a private CA; absent: the system's trust store */
  ca?: string;
  tls: boolean;
  /** the SNI/certificate name when it differs from the host connected to */
  servername?: string;
}

export type RedisShape =
  | { kind: 'socket'; path: string }
  | ({ kind: 'server'; db: number } & HostPort & RedisAuth)
  | ({ kind: 'sentinel'; sentinels: HostPort[]; master: string; sentinelPassword?: string; db: number } & RedisAuth)
  | ({ kind: 'cluster'; nodes: HostPort[] } & RedisAuth);

export interface RedisSettings {
  url: string | undefined;
  prefix: string;
  caFile?: string;
  sentinels?: HostPort[];
  sentinelMaster?: string;
  sentinelPassword?: string;
  clusterNodes?: HostPort[];
  /** REDIS_WAIT_REPLICAS; undefined: by shape (redis-target.ts) */
  waitReplicas?: number;
}

/** `host:port,host:port` (IPv6 as `[::1]:26379`); the port defaults to `defaultPort`. */
export function parseHostPorts(raw: string, defaultPort: number): HostPort[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new Error('lists no host:port');
  return items.map((item) => {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(item);
    if (!m) throw new Error(`"${item}" is not host:port`);
    const port = m[3] === undefined ? defaultPort : Number(m[3]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${item}": the port must be 1 to 65535`);
    return { host: (m[1] ?? m[2])!, port };
  });
}

/**
 * The hash tag Redis Cluster hashes a key by: the text between the first `{` and the first `}`
 * after it, when not empty. BullMQ's keys are `<prefix>:<queue>:...`, so a prefix with a tag
 * puts every key of every queue, and the project's own keys, in one slot.
 */
export function hashTagOf(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  if (open < 0) return undefined;
  const close = prefix.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return prefix.slice(open + 1, close);
}

export function clusterPrefixProblem(prefix: string): string | undefined {
  if (hashTagOf(prefix) !== undefined) return undefined;
  const bare = prefix.replace(/[{}]/g, '') || 'faspex-ingest';
  return `QUEUE_PREFIX=${prefix} has no {hash tag}: in Redis Cluster every key of a queue must be in one slot, and BullMQ's scripts fail otherwise; set QUEUE_PREFIX={${bare}}`;
}

const config = (message: string) => new IngestError('CONFIG', message, { retry: 'never' });

/** Undefined when nothing says where Redis is (then `run` starts its own). */
export function redisShape(s: RedisSettings, caPem: string | undefined): RedisShape | undefined {
  if (s.sentinels && s.clusterNodes) throw config('REDIS_SENTINELS and REDIS_CLUSTER_NODES exclude each other: a Cluster has no Sentinels');
  if (s.sentinels && !s.sentinelMaster) throw config('REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS: the name the sentinels monitor the master by (sentinel monitor <name> ...)');
  if (s.caFile && caPem === undefined) throw config(`REDIS_CA_FILE ${s.caFile} cannot be read`);
  // an empty or wrong file would otherwise read as "cannot be read", or fail later as a TLS error
  if (s.caFile && !caPem!.includes('-----BEGIN CERTIFICATE-----')) throw config(`REDIS_CA_FILE ${s.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  const fromUrl = s.url ? authOf(s.url, caPem) : { auth: { tls: false, ca: caPem } as RedisAuth, db: 0, at: undefined };
  if (caPem && !fromUrl.auth.tls) throw config('REDIS_CA_FILE is set but REDIS_URL is not rediss://: the CA would not be used; write rediss:// for TLS');
  const { auth, db } = fromUrl;

  if (s.clusterNodes) {
    const problem = clusterPrefixProblem(s.prefix);
    if (problem) throw config(problem);
    if (db !== 0) throw config('REDIS_URL names database ' + db + ', but a Redis Cluster only has database 0');
    return { kind: 'cluster', nodes: s.clusterNodes, ...auth };
  }
  if (s.sentinels) {
    return { kind: 'sentinel', sentinels: s.sentinels, master: s.sentinelMaster!, sentinelPassword: s.sentinelPassword, db, ...auth };
  }
  if (!fromUrl.at) return undefined;
  return { kind: 'server', ...fromUrl.at, db, ...auth };
}

function authOf(url: string, caPem: string | undefined): { auth: RedisAuth; db: number; at: HostPort } {
  const u = new URL(url);
  const tls = u.protocol === 'rediss:';
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw config('REDIS_URL: the path must be a database number (redis://host:6379/0)');
  const auth: RedisAuth = { tls };
  if (u.username) auth.username = decodeURIComponent(u.username);
  if (u.password) auth.password = decodeURIComponent(u.password);
  if (tls && caPem) auth.ca = caPem;
  // URL keeps IPv6 hosts in brackets; sockets want them bare
  return { auth, db: path === '' ? 0 : Number(path), at: { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 6379 } };
}

/** For people and error messages: where, in which shape; never a password. */
export function describeShape(shape: RedisShape): string {
  const hp = (h: HostPort) => `${h.host}:${h.port}`;
  switch (shape.kind) {
    case 'socket':
      return `local redis-server (${shape.path})`;
    case 'server':
      return `${shape.tls ? 'rediss' : 'redis'}://${shape.username ? `${shape.username}@` : ''}${hp(shape)}`;
    case 'sentinel':
      return `Sentinel master "${shape.master}" via ${shape.sentinels.map(hp).join(',')}${shape.tls ? ' (TLS)' : ''}`;
    case 'cluster':
      return `Redis Cluster via ${shape.nodes.map(hp).join(',')}${shape.tls ? ' (TLS)' : ''}`;
  }
}

/**
 * BullMQ loses jobs when Redis evicts keys under memory pressure; only `noeviction` makes Redis
 * refuse writes instead, which the service sees and retries. Undefined means acceptable.
 */
export function evictionProblem(policy: string | undefined, where: string): string | undefined {
  if (policy === undefined || policy === 'noeviction') return undefined;
  return `Redis at ${where} has maxmemory-policy ${policy}: under memory pressure it would delete queued jobs and their locks, losing packages. Set maxmemory-policy noeviction (redis.conf, or the managed service's parameter group / advanced settings)`;
}

/** `maxmemory_policy:allkeys-lru` out of INFO memory, for servers that refuse CONFIG GET. */
export function policyFromInfo(info: string): string | undefined {
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}
