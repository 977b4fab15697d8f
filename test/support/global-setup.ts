/**
 * One real redis-server for the whole run; each test isolates itself with its own queue prefix
 * (see test/support/redis.ts). Tests that crash or restart Redis start their own.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startRedisServer, type RedisServer } from '../../src/service/redis-server.js';

let redis: RedisServer | undefined;
let dir: string | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** Debian package → a file that proves it is installed. */
const NEEDED: Record<string, string[]> = {
  'redis-server': ['/usr/bin/redis-server'],
  // redis-cli creates the test cluster (redis-server --sentinel runs the sentinels)
  'redis-tools': ['/usr/bin/redis-cli'],
  // doveadm (dovecot-core, pulled in by dovecot-imapd) ends sessions in the OAuth expiry tests
  'dovecot-imapd': ['/usr/sbin/dovecot', '/usr/lib/dovecot/imap', '/usr/bin/doveadm'],
  // the test CA, and the certificates of the Entra app in the OAuth tests
  openssl: ['/usr/bin/openssl'],
  'dovecot-lmtpd': ['/usr/lib/dovecot/lmtp'],
  chromium: ['/usr/bin/chromium'],
  tinyproxy: ['/usr/bin/tinyproxy'],
  // promtool checks and unit-tests the alert rules in deploy/prometheus/
  prometheus: ['/usr/bin/promtool'],
  // `script`: runs the CLI on a pseudo-terminal (test/support/terminal.ts)
  bsdutils: ['/usr/bin/script'],
};

function missingPackages(): string[] {
  const onPath = (bin: string) => {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  return Object.entries(NEEDED)
    .filter(([pkg, files]) => !files.every((f) => existsSync(f)) && !(pkg === 'redis-server' && onPath('redis-server')))
    .map(([pkg]) => pkg);
}

export async function setup(project: TestProject): Promise<void> {
  const missing = missingPackages();
  if (missing.length > 0) {
    throw new Error(`the tests need real servers that are not installed; run:\n  apt-get update && apt-get install -y ${missing.join(' ')}\n(.ci/run does this itself)`);
  }
  // Tests spawn bin/faspex-ingest, which runs dist/: build it once here, before the parallel
  // forks start, rather than have the first few CLI runs race to rebuild (they would wait on
  // the build lock, but inside their own timeouts).
  const built = spawnSync(process.execPath, [fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url)), '--if-stale'], { stdio: ['ignore', 'inherit', 'inherit'] });
  // 2: type errors, but JavaScript was emitted (the tests run like tsx would; `npm test`'s
  // typecheck reports them); anything else left no dist/ to run.
  if (built.status !== 0 && built.status !== 2) throw new Error('npm run build failed (see above): the CLI tests run the compiled dist/');
  dir = mkdtempSync(join(tmpdir(), 'fi-redis-'));
  redis = await startRedisServer({ dir });
  project.provide('redisUrl', redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
