import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient } from '../../src/queue/connection.js';
import { QUEUE } from '../../src/queue/queues.js';
import { freePort } from '../../src/service/redis-server.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim, type SimPackage } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { runCli } from '../support/cli.js';
import { completePackages, invocations, killLeftoverAscp, partialFiles, waitForRunning, walk } from '../support/proof.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * `run` with its embedded Redis (no REDIS_URL), SIGKILLed (the node process only, as the OOM
 * killer does it) while idle, mid-download with the parent-death signal switched off (so its
 * redis-server is left running, orphaned, as on a host without setpriv), and mid-shutdown; each
 * time started again by the test as systemd's or Docker's restart policy would, with no manual
 * step. Every queued job must be kept, every package completed once, and no redis-server of the
 * test's data folder may be left at the end.
 */
const PACKAGES = 4;
const RATE = 300_000; // bytes/s per ascp: a package takes about two seconds

/** live redis-server processes working in `dir` (redis-server changes into its --dir) */
function redisServersIn(dir: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'redis-server' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z' && readlinkSync(`/proc/${pid}/cwd`) === dir;
    } catch {
      return false;
    }
  });
}

describe('restart after SIGKILL: run with its embedded Redis comes back by itself', () => {
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let env: Record<string, string>;
  const dir = tempDir('restart');
  const packages: SimPackage[] = [];
  let current: ServiceProcess | undefined;
  let redisDir: string;

  beforeAll(async () => {
    [dovecot, sim] = await Promise.all([startDovecot(), createFaspexSim()]);
    const { REDIS_URL: _none, ...rest } = serviceEnv({
      redisUrl: '', prefix: uniqueName('restart'), dovecot, sim, dir: dir.path, dashboardPort: await freePort(),
      extra: { FAKE_ASCP_RATE_BPS: String(RATE), WORKER_LOCK_SECONDS: '5', WORKER_CONCURRENCY: '1', DOWNLOAD_ATTEMPTS: '5' },
    });
    env = rest;
    redisDir = join(env.DATA_DIR!, 'redis');
    for (let i = 0; i < PACKAGES; i++) packages.push(sim.addPackage({ title: `Restart reel ${i}`, files: { 'a.bin': 400_000 + i * 1000, 'b.bin': 200_000 } }));
  });

  afterAll(async () => {
    await current?.stop('SIGKILL');
    killLeftoverAscp(env.FAKE_ASCP_STATE_DIR!);
    // whatever a failed run left behind
    for (const pid of existsSync(redisDir) ? redisServersIn(redisDir) : []) process.kill(pid, 'SIGKILL');
    await Promise.all([dovecot?.stop(), sim?.close()]);
    dir.remove();
  });

  const start = (failpoints?: string) => {
    current = startServiceProcess(['run'], failpoints ? { ...env, FASPEX_INGEST_FAILPOINTS: failpoints } : env, dir.path);
    return current;
  };
  // straight from the embedded Redis's socket: a `status` process per poll is slow on a loaded machine
  const counts = async () => {
    const connection = createRedisClient({ kind: 'socket', path: join(redisDir, 'redis.sock') }, 'producer');
    const queue = new Queue(QUEUE.downloads, { connection, prefix: env.QUEUE_PREFIX });
    try {
      return await queue.getJobCounts();
    } finally {
      await queue.close();
      connection.disconnect();
    }
  };
  const status = async () => {
    const s = await runCli(['status', '--json'], { env, cwd: dir.path });
    return s.code === 0 ? (JSON.parse(s.stdout) as { queues: { downloads: Record<string, number> } }).queues.downloads : undefined;
  };
  const downloads = () => env.DOWNLOAD_DIR!;

  it('comes back after SIGKILL idle, mid-download and mid-shutdown, keeping every job', async () => {
    // 1. Idle. A second `run` on the same DATA_DIR is refused while the first lives.
    const first = start();
    await waitForRunning(first);
    const firstRedis = await waitFor(() => (redisServersIn(redisDir).length === 1 ? redisServersIn(redisDir) : undefined), { what: 'the embedded redis-server' });
    const twin = await runCli(['run'], { env: { ...env, DASHBOARD_PORT: String(await freePort()) }, cwd: dir.path, timeoutMs: 60_000 });
    expect(twin.code).not.toBe(0);
    expect(twin.stderr).toContain(`another faspex-ingest (pid ${first.child.pid}) is already running a Redis in ${redisDir}`);
    expect(redisServersIn(redisDir)).toEqual(firstRedis);
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    // the parent-death signal (util-linux setpriv, in every Debian): the server saves and goes with its parent
    if (first.output().includes('"stopsWithThisProcess":true')) {
      await waitFor(() => redisServersIn(redisDir).length === 0, { what: 'the redis-server to stop with its parent', timeoutMs: 30_000 });
    } else {
      console.warn('restart suite: no setpriv with --pdeathsig here; the parent-death step is not tested');
    }

    // 2. Mid-download, the server left running: started without the parent-death signal.
    const second = start('embedded-redis.without-parent-death-signal');
    await waitForRunning(second);
    for (const [i, pkg] of packages.entries()) await dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: pkg.title, messageId: `<restart-${i}@faspex.example.com>` }));
    // one transfer at a time (WORKER_CONCURRENCY=1): the others wait in Redis, their mail marked handled
    await waitFor(async () => {
      const s = await counts();
      return s.waiting! >= 1 && s.active === 1 && s.waiting! + s.active + s.completed! === PACKAGES && partialFiles(downloads()).some((f) => f.size > 0);
    }, { what: 'every mail queued and a transfer under way', timeoutMs: 60_000, intervalMs: 50 });
    const orphan = redisServersIn(redisDir);
    expect(orphan).toHaveLength(1);
    expect(await second.stop('SIGKILL')).toBe('SIGKILL');
    expect(redisServersIn(redisDir)).toEqual(orphan); // left behind, still answering

    const third = start('shutdown.after-part@2');
    await waitForRunning(third);
    expect(third.output()).toContain('a redis-server left behind by a faspex-ingest that is gone');
    expect(redisServersIn(redisDir)).not.toContain(orphan[0]);

    // 3. Mid-shutdown: SIGTERM once a transfer runs again, killed after the downloads were handed back.
    await waitFor(() => (invocations(env.FAKE_ASCP_STATE_DIR!).length > 1 ? true : undefined), { what: 'a transfer after the restart', timeoutMs: 60_000 });
    const termAt = Date.now();
    third.child.kill('SIGTERM');
    expect(await waitFor(() => third.exited, { timeoutMs: 60_000, what: 'the kill mid-shutdown' })).toBe('SIGKILL');
    // docs/deployment.md "Stop times": how long the listener and the downloads took to stop, mid-transfer
    console.info(`restart suite: SIGTERM mid-transfer to downloads handed back: ${Date.now() - termAt} ms`);
    expect(third.output()).toContain('failpoint shutdown.after-part (hit 2): SIGKILL');

    // 4. Left alone: everything completes.
    const last = start();
    await waitForRunning(last);
    const done = await waitFor(() => {
      const c = completePackages(downloads());
      return c.length >= PACKAGES ? c : undefined;
    }, { what: 'every package complete', timeoutMs: 90_000 });
    await waitFor(async () => (await counts()).completed === PACKAGES, { what: 'all jobs completed', timeoutMs: 30_000 });
    expect(await status()).toMatchObject({ completed: PACKAGES, failed: 0, waiting: 0, active: 0, delayed: 0 });

    // once each: one folder and one manifest per package, the bytes of the source, no ascp after it
    expect(done).toHaveLength(PACKAGES);
    expect(readdirSync(downloads())).toHaveLength(PACKAGES);
    const runs = invocations(env.FAKE_ASCP_STATE_DIR!);
    for (const pkg of packages) {
      const got = done.find((d) => d.manifest.title === pkg.title)!;
      expect(got, pkg.title).toBeDefined();
      for (const f of pkg.files) {
        const onDisk = walk(got.folder).find((p) => p.endsWith(`/${f.path}`));
        expect(readFileSync(onDisk!).equals(readFileSync(join(pkg.dir, f.path))), `${pkg.title}/${f.path}`).toBe(true);
      }
      expect(runs.filter((r) => r.argv.some((a) => a.includes(pkg.uuid)) && r.at > got.mtimeMs), `${pkg.title}: ascp after its manifest`).toEqual([]);
    }

    // a clean stop takes its Redis with it, and its records
    const idleTermAt = Date.now();
    expect(await last.stop('SIGTERM')).toBe(0);
    console.info(`restart suite: SIGTERM to exit of an idle run, its redis-server included: ${Date.now() - idleTermAt} ms`);
    expect(redisServersIn(redisDir)).toEqual([]);
    expect(existsSync(join(redisDir, 'redis.pid'))).toBe(false);
    expect(existsSync(join(redisDir, 'owner.json'))).toBe(false);
  }, 300_000);
});
