/**
 * Real Redis shapes on loopback, from Debian's redis-server (and redis-cli for the cluster):
 * a TLS-only server with an ACL user, a master/replica pair with three sentinels
 * (`redis-server --sentinel`), and a three-master cluster with a replica each. Timeouts are
 * tuned low (sentinel down-after, cluster-node-timeout) so failovers take seconds, not minutes.
 * Every process is a child of the test and is stopped by `stop()`.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from '../../src/service/redis-server.js';
import type { TestCa } from '../../src/standins/test-ca.js';
import { waitFor } from './temp.js';

const run = promisify(execFile);

export interface RedisProcess {
  port: number;
  dir: string;
  child: ChildProcess;
  /** a client for the test's own checks (not the service's) */
  client(extra?: RedisOptions): Redis;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

async function spawnRedis(dir: string, args: string[], port: number, clientOptions: RedisOptions, sentinel = false): Promise<RedisProcess> {
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, sentinel ? 'sentinel.conf' : 'redis.conf');
  if (sentinel) {
    // a sentinel rewrites its config file: it must exist and be writable
  } else writeFileSync(configFile, '');
  const base = ['--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--logfile', join(dir, 'redis.log'), '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', [configFile, ...(sentinel ? ['--sentinel'] : []), ...base, ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const client = (extra: RedisOptions = {}) => new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => 100, ...clientOptions, ...extra });
  const probe = client({ retryStrategy: () => 50 });
  probe.on('error', () => undefined);
  try {
    await waitFor(async () => (await probe.ping()) === 'PONG', { what: `redis-server on ${port} (${dir})`, timeoutMs: 10_000 });
  } finally {
    probe.disconnect();
  }
  return {
    port,
    dir,
    child,
    client,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface TlsRedis extends RedisProcess {
  user: string;
  password: string;
  url: string;
}

/** TLS only (the plain port is 0), the default user disabled, one ACL user for the service. */
export async function startTlsRedis(root: string, ca: TestCa): Promise<TlsRedis> {
  const port = await freePort();
  const user = 'ingest';
  const password = 'tls-acl-Secret-7';
  const p = await spawnRedis(join(root, 'tls'), [
    '--port', '0', '--tls-port', String(port),
    '--tls-cert-file', ca.serverCertFile, '--tls-key-file', ca.serverKeyFile, '--tls-ca-cert-file', ca.caFile,
    '--tls-auth-clients', 'no', '--maxmemory-policy', 'noeviction',
    '--user', 'default', 'off',
    '--user', user, 'on', `>${password}`, '~*', '&*', '+@all',
  ], port, { username: user, password, tls: { ca: ca.caPem } });
  return { ...p, user, password, url: `rediss://${user}:${password}@127.0.0.1:${port}` };
}

export interface SentinelSet {
  master: string;
  masterPassword: string;
  sentinelPassword: string;
  servers: RedisProcess[];
  sentinels: RedisProcess[];
  /** host:port,... for REDIS_SENTINELS */
  sentinelList: string;
  /** the port of the current master, as the sentinels say */
  masterPort(): Promise<number>;
  failover(): Promise<void>;
  stop(): Promise<void>;
}

/** A master and a replica (password protected), watched by three sentinels (own password). */
export async function startSentinelSet(root: string): Promise<SentinelSet> {
  const master = 'ingestmaster';
  const masterPassword = 'master-Secret-1';
  const sentinelPassword = 'sentinel-Secret-2';
  const auth = ['--requirepass', masterPassword, '--masterauth', masterPassword, '--maxmemory-policy', 'noeviction'];
  const [mPort, rPort] = [await freePort(), await freePort()];
  const primary = await spawnRedis(join(root, 'm'), ['--port', String(mPort), ...auth], mPort, { password: masterPassword });
  const replica = await spawnRedis(join(root, 'r'), ['--port', String(rPort), ...auth, '--replicaof', '127.0.0.1', String(mPort)], rPort, { password: masterPassword });
  const sentinels: RedisProcess[] = [];
  for (const i of [0, 1, 2]) {
    const port = await freePort();
    const dir = join(root, `s${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'sentinel.conf'), [
      `port ${port}`,
      `requirepass ${sentinelPassword}`,
      `sentinel sentinel-pass ${sentinelPassword}`,
      `sentinel monitor ${master} 127.0.0.1 ${mPort} 2`,
      `sentinel auth-pass ${master} ${masterPassword}`,
      `sentinel down-after-milliseconds ${master} 1000`,
      `sentinel failover-timeout ${master} 4000`,
      `sentinel parallel-syncs ${master} 1`,
      '',
    ].join('\n'));
    sentinels.push(await spawnRedis(dir, ['--port', String(port)], port, { password: sentinelPassword }, true));
  }
  const ask = async <T>(f: (c: Redis) => Promise<T>): Promise<T> => {
    const c = sentinels[0]!.client();
    try {
      return await f(c);
    } finally {
      c.disconnect();
    }
  };
  const masterPort = () => ask(async (c) => Number(((await c.call('SENTINEL', 'get-master-addr-by-name', master)) as string[])[1]));
  // all three sentinels must know each other and the replica before a failover can be agreed
  await waitFor(() => ask(async (c) => {
    const info = (await c.call('SENTINEL', 'master', master)) as string[];
    const field = (k: string) => Number(info[info.indexOf(k) + 1]);
    return field('num-other-sentinels') === 2 && field('num-slaves') === 1;
  }), { what: 'the sentinels to find each other and the replica', timeoutMs: 20_000 });
  return {
    master,
    masterPassword,
    sentinelPassword,
    servers: [primary, replica],
    sentinels,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    masterPort,
    async failover() {
      const before = await masterPort();
      await ask((c) => c.call('SENTINEL', 'failover', master));
      await waitFor(async () => (await masterPort()) !== before, { what: 'the sentinels to promote the replica', timeoutMs: 20_000 });
    },
    async stop() {
      await Promise.all([...sentinels, primary, replica].map((p) => p.stop()));
    },
  };
}

export interface RedisClusterSet {
  nodes: RedisProcess[];
  /** host:port,... for REDIS_CLUSTER_NODES */
  nodeList: string;
  /** the port of the master that owns `key`'s slot */
  masterOf(key: string): Promise<number>;
  /** CLUSTER FAILOVER on a replica of the master owning `key`; resolves once it is master */
  failover(key: string): Promise<{ from: number; to: number }>;
  stop(): Promise<void>;
}

/** Three masters, one replica each, created with redis-cli --cluster create. */
export async function startRedisCluster(root: string): Promise<RedisClusterSet> {
  const nodes: RedisProcess[] = [];
  for (let i = 0; i < 6; i++) {
    const port = await freePort();
    nodes.push(await spawnRedis(join(root, `c${i}`), [
      '--port', String(port), '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', '1000', '--maxmemory-policy', 'noeviction',
    ], port, {}));
  }
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
  const ask = async <T>(port: number, f: (c: Redis) => Promise<T>): Promise<T> => {
    const c = nodes.find((n) => n.port === port)!.client();
    try {
      return await f(c);
    } finally {
      c.disconnect();
    }
  };
  for (const n of nodes) {
    await waitFor(() => ask(n.port, async (c) => /cluster_state:ok/.test(String(await c.call('CLUSTER', 'INFO')))), { what: `cluster state ok on ${n.port}`, timeoutMs: 20_000 });
  }
  // every node must know all slots with their replica before clients or a failover can rely on it
  for (const n of nodes) {
    await waitFor(() => ask(n.port, async (c) => {
      const slots = (await c.call('CLUSTER', 'SLOTS')) as unknown[][];
      return slots.length === 3 && slots.every((s) => s.length === 4);
    }), { what: `three masters with a replica each, as ${n.port} sees it`, timeoutMs: 20_000 });
  }

  const topology = async () => {
    const lines = String(await ask(nodes[0]!.port, (c) => c.call('CLUSTER', 'NODES'))).trim().split('\n');
    return lines.map((l) => {
      const [id, addr, flags, masterId, , , , , ...slots] = l.split(' ');
      return { id: id!, port: Number(addr!.split('@')[0]!.split(':')[1]), master: flags!.includes('master'), masterId: masterId!, slots };
    });
  };
  const masterOf = async (key: string) => {
    const slot = Number(await ask(nodes[0]!.port, (c) => c.call('CLUSTER', 'KEYSLOT', key)));
    const owner = (await topology()).find((n) => n.master && n.slots.some((r) => {
      const [a, b] = r.split('-').map(Number);
      return slot >= a! && slot <= (b ?? a)!;
    }));
    if (!owner) throw new Error(`no master owns slot ${slot}`);
    return owner.port;
  };
  return {
    nodes,
    nodeList: nodes.slice(0, 3).map((n) => `127.0.0.1:${n.port}`).join(','),
    masterOf,
    async failover(key: string) {
      const from = await masterOf(key);
      const t = await topology();
      const masterId = t.find((n) => n.port === from)!.id;
      const replica = t.find((n) => !n.master && n.masterId === masterId);
      if (!replica) throw new Error(`master ${from} has no replica`);
      await ask(replica.port, (c) => c.call('CLUSTER', 'FAILOVER'));
      await waitFor(async () => (await masterOf(key)) === replica.port, { what: `replica ${replica.port} to take over`, timeoutMs: 20_000 });
      return { from, to: replica.port };
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
