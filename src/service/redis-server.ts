/**
 * Starts a local redis-server as a child process: the embedded Redis of `run` when REDIS_URL is
 * unset, and the real Redis of the tests and benchmarks. Loopback only, `noeviction` (BullMQ's
 * only correct policy), optionally with an append-only file so queued jobs survive a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { IngestError } from '../errors.js';

export interface RedisServerOptions {
  /** working directory for the AOF/RDB files and the unix socket */
  dir: string;
  /** TCP port; 0 picks a free one */
  port?: number;
  appendOnly?: boolean;
  /** also listen on DIR/redis.sock, so other local commands (status, enqueue) can find it */
  unixSocket?: boolean;
  binary?: string;
  startTimeoutMs?: number;
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly socketPath: string | undefined;
  readonly pid: number;
  readonly process: ChildProcess;
  /** SIGTERM, wait for exit (Redis fsyncs its AOF on a clean shutdown) */
  stop(): Promise<void>;
  /** SIGKILL, for crash tests */
  kill(): Promise<void>;
}

export const REDIS_INSTALL_HINT = 'install it with: apt-get install -y redis-server (or set REDIS_URL to an existing Redis)';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startRedisServer(options: RedisServerOptions): Promise<RedisServer> {
  mkdirSync(options.dir, { recursive: true });
  const port = options.port || (await freePort());
  const socketPath = options.unixSocket ? join(options.dir, 'redis.sock') : undefined;
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'yes',
    '--dir', options.dir,
    '--daemonize', 'no',
    '--maxmemory-policy', 'noeviction',
    '--save', '',
    '--appendonly', options.appendOnly ? 'yes' : 'no',
    '--appendfsync', 'everysec',
    '--loglevel', 'warning',
    '--logfile', join(options.dir, 'redis.log'),
  ];
  if (socketPath) args.push('--unixsocket', socketPath, '--unixsocketperm', '700');

  const binary = options.binary ?? 'redis-server';
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    const outcome = await Promise.race([
      redisAnswers({ port }).then((ok) => (ok ? 'ready' : 'wait')),
      spawnError.then((e) => e),
      exited.then(() => 'exited' as const),
    ]);
    if (outcome === 'ready') break;
    if (outcome instanceof Error) {
      const missing = (outcome as NodeJS.ErrnoException).code === 'ENOENT';
      throw new IngestError('CONFIG', missing ? `redis-server was not found; ${REDIS_INSTALL_HINT}` : `redis-server could not start: ${outcome.message}`, { retry: 'never' });
    }
    if (outcome === 'exited') {
      throw new IngestError('CONFIG', `redis-server exited at start: ${stderr.trim() || 'see ' + join(options.dir, 'redis.log')}`, { retry: 'never' });
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new IngestError('CONFIG', `redis-server did not answer on 127.0.0.1:${port} within ${options.startTimeoutMs ?? 10_000} ms`, { retry: 'never' });
    }
    await new Promise((r) => setTimeout(r, 10));
  }

  const waitExit = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    socketPath,
    pid: child.pid!,
    process: child,
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL'),
  };
}

/** PING over TCP or a unix socket, without a Redis client: true only on +PONG. */
export function redisAnswers(target: { port: number } | { path: string }, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = 'path' in target ? createConnection({ path: target.path }) : createConnection({ host: '127.0.0.1', port: target.port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}
