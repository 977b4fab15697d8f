/**
 * Starts a local redis-server as a child process: the embedded Redis of `run` when REDIS_URL is
 * unset, and the real Redis of the tests and benchmarks. Loopback only, `noeviction` (BullMQ's
 * only correct policy), optionally with an append-only file so queued jobs survive a crash.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
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
  /** Redis writes its PID here (and removes it on a clean shutdown) */
  pidFile?: string;
  /**
   * SIGTERM the server when this process dies, however it dies (Linux's parent-death signal,
   * set by util-linux `setpriv` before it executes redis-server). Where setpriv or the signal is
   * missing the server starts without it, and a restart deals with what is left behind.
   */
  dieWithParent?: boolean;
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly socketPath: string | undefined;
  readonly pid: number;
  readonly process: ChildProcess;
  /** whether it was started with the parent-death signal */
  readonly diesWithParent: boolean;
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
  if (options.pidFile) args.push('--pidfile', options.pidFile);

  const binary = findExecutable(options.binary ?? 'redis-server');
  if (!binary) throw new IngestError('CONFIG', `redis-server was not found; ${REDIS_INSTALL_HINT}`, { retry: 'never' });
  const setpriv = options.dieWithParent ? parentDeathLauncher() : undefined;
  // setpriv executes redis-server in its own process: the PID stays the server's
  const child = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'SIGTERM', '--', binary, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  let deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    const outcome = await Promise.race([
      redisPing({ port }).then((answer) => answer),
      spawnError.then((e) => e),
      exited.then(() => 'exited' as const),
    ]);
    if (outcome === 'pong') break;
    // a long append-only file (a big queue) takes its time to load; it is alive, so wait on
    if (outcome === 'loading') deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
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
    diesWithParent: setpriv !== undefined,
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL'),
  };
}

/** PING over TCP or a unix socket, without a Redis client: true only on +PONG. */
export async function redisAnswers(target: { port: number } | { path: string }, timeoutMs = 500): Promise<boolean> {
  return (await redisPing(target, timeoutMs)) === 'pong';
}

/** PING's outcome: `loading` is a live server still reading its data files (-LOADING). */
export function redisPing(target: { port: number } | { path: string }, timeoutMs = 500): Promise<'pong' | 'loading' | 'no'> {
  return new Promise((resolve) => {
    const socket = 'path' in target ? createConnection({ path: target.path }) : createConnection({ host: '127.0.0.1', port: target.port });
    let answer = '';
    const done = (outcome: 'pong' | 'loading' | 'no') => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done('no'));
    socket.once('error', () => done('no'));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG') ? 'pong' : answer.startsWith('-LOADING') ? 'loading' : 'no');
    });
  });
}

/** An executable's path: `name` itself when it holds a slash, else the first match on PATH. */
export function findExecutable(name: string): string | undefined {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

let launcher: string | null | undefined;
/** util-linux setpriv when it has --pdeathsig (2.33 and later; Linux only), asked once */
function parentDeathLauncher(): string | undefined {
  if (launcher === undefined) {
    const found = process.platform === 'linux' ? findExecutable('setpriv') : undefined;
    launcher = found && spawnSync(found, ['--help'], { encoding: 'utf8', timeout: 5000 }).stdout?.includes('--pdeathsig') ? found : null;
  }
  return launcher ?? undefined;
}
