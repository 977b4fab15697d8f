/**
 * One live `run` per embedded-Redis folder, on this host: a listening unix socket in Linux's
 * abstract namespace, named after the folder. The kernel frees it the moment its process dies
 * (SIGKILL included), so a lock left behind cannot exist and nothing needs cleaning up before a
 * restart. Node opens sockets close-on-exec, so no child (ascp, redis-server) inherits it.
 *
 * Abstract names are per network namespace: two containers that share the folder but not a
 * network do not see each other's lock. The owner record and the parent check
 * (src/service/leftover-redis.ts) still refuse a Redis in use there.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

export interface DataDirLock {
  /** another process holds it */
  busy: boolean;
  release(): Promise<void>;
}

export function lockName(dir: string): string {
  return `\0faspex-ingest/redis/${createHash('sha256').update(realpathSync(dir)).digest('hex').slice(0, 32)}`;
}

export function takeDataDirLock(dir: string): Promise<DataDirLock> {
  if (process.platform !== 'linux') return Promise.resolve({ busy: false, release: async () => {} });
  return new Promise((resolve, reject) => {
    const server: Server = createServer((socket) => socket.destroy());
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') resolve({ busy: true, release: async () => {} });
      else reject(e);
    });
    server.listen(lockName(dir), () => {
      server.unref();
      resolve({ busy: false, release: () => new Promise<void>((r) => server.close(() => r())) });
    });
  });
}
