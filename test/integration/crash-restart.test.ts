import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedisServer, type RedisServer } from '../../src/service/redis-server.js';
import { runCli } from '../support/cli.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim, type SimPackage } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { bytesTransferred, completePackages, descendants, invocations, killLeftoverAscp, killTree, partialFiles, walk } from '../support/proof.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * `run` SIGKILLed at four different moments, started again each time, on a Redis with an
 * append-only file: while reading a backlog right after queuing (failpoint), mid-file (polled
 * from the partial files), while writing the manifest (failpoint), and mid-file again. Every
 * package must end complete exactly once, no ascp may run for a package after its manifest
 * existed, and the bytes moved in total stay within 1.3 × the packages' size.
 */
const PACKAGES = 6;
const RATE = 600_000; // bytes/s per ascp: a 600 kB package takes about a second

describe('crash: SIGKILL of run at several moments', () => {
  let redis: RedisServer;
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let env: Record<string, string>;
  const dir = tempDir('crash');
  const packages: SimPackage[] = [];
  let current: ServiceProcess | undefined;

  beforeAll(async () => {
    mkdirSync(join(dir.path, 'redis'));
    [redis, dovecot, sim] = await Promise.all([startRedisServer({ dir: join(dir.path, 'redis'), appendOnly: true }), startDovecot(), createFaspexSim()]);
    env = serviceEnv({
      redisUrl: redis.url, prefix: uniqueName('crash'), dovecot, sim, dir: dir.path, dashboardPort: await freePort(),
      extra: { FAKE_ASCP_RATE_BPS: String(RATE), WORKER_LOCK_SECONDS: '5', WORKER_CONCURRENCY: '2', DOWNLOAD_ATTEMPTS: '5' },
    });
    for (let i = 0; i < PACKAGES; i++) {
      packages.push(sim.addPackage({ title: `Crash reel ${i}`, files: { 'a.bin': 350_000 + i * 1000, 'sub/b.bin': 250_000 } }));
    }
  });

  afterAll(async () => {
    await current?.stop('SIGKILL');
    killLeftoverAscp(env.FAKE_ASCP_STATE_DIR!);
    await Promise.all([dovecot?.stop(), sim?.close(), redis?.kill()]);
    dir.remove();
  });

  const start = (failpoints?: string) => {
    current = startServiceProcess(['run'], failpoints ? { ...env, FASPEX_INGEST_FAILPOINTS: failpoints } : env, dir.path);
    return current;
  };
  const downloads = () => env.DOWNLOAD_DIR!;
  const stateDir = () => env.FAKE_ASCP_STATE_DIR!;

  it('ends with every package complete once, nothing fetched again, bytes ≤ 1.3 × size', async () => {
    // A backlog: all mail is there before the first start.
    for (const [i, pkg] of packages.entries()) await dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: pkg.title, messageId: `<crash-${i}@faspex.example.com>` }));

    // 1. While reading the backlog: killed right after the 2nd mail's job is in Redis, before that mail is marked handled.
    const first = start('listener.after-enqueue@2');
    expect(await first.exited).toBe('SIGKILL');
    expect(first.output()).toContain('failpoint listener.after-enqueue (hit 2): SIGKILL');

    // 2. Mid-file, as a host crash: the process and its ascp die together.
    const second = start();
    const sizes = new Map(packages.flatMap((p) => p.files.map((f) => [f.size, f.path])));
    await waitFor(() => partialFiles(downloads()).some((f) => f.size > 0 && f.size < Math.max(...sizes.keys()) / 2), { what: 'a partial file mid-way', timeoutMs: 30_000, intervalMs: 10 });
    const ascpAtKill = descendants(second.child.pid!).length;
    killTree(second.child.pid!);
    expect(await second.exited).toBe('SIGKILL');
    expect(ascpAtKill).toBeGreaterThan(0);
    const partialAtKill = partialFiles(downloads());
    expect(partialAtKill.length).toBeGreaterThan(0);

    // 3. While writing the manifest: the temp file is on disk, the rename has not happened.
    const third = start('manifest.before-rename');
    expect(await waitFor(() => third.exited.then((c) => c), { timeoutMs: 60_000, what: 'the manifest failpoint' })).toBe('SIGKILL');
    expect(third.output()).toContain('failpoint manifest.before-rename (hit 1): SIGKILL');
    const tempManifests = walk(downloads()).filter((p) => /\.faspex-package\.json\.tmp-/.test(p));
    expect(tempManifests.length).toBeGreaterThan(0);
    for (const t of tempManifests) expect(existsSync(join(t, '..', 'faspex-package.json'))).toBe(false);

    // 4. Mid-file again, as the OOM killer does it: only the node process dies, its ascp lives on
    //    (orphaned) while the restarted service takes the job over after the lock expires.
    const fourth = start();
    await waitFor(() => partialFiles(downloads()).some((f) => f.size > 0) && descendants(fourth.child.pid!).length > 0, { what: 'a transfer under way', timeoutMs: 30_000, intervalMs: 10 });
    await fourth.stop('SIGKILL');

    // 5. Left alone: everything completes.
    const last = start();
    const done = await waitFor(() => {
      const c = completePackages(downloads());
      return c.length >= PACKAGES ? c : undefined;
    }, { what: 'every package complete', timeoutMs: 60_000 });
    await waitFor(async () => {
      const s = await runCli(['status', '--json'], { env, cwd: dir.path });
      return s.code === 0 && JSON.parse(s.stdout).queues.downloads.completed === PACKAGES;
    }, { what: 'all jobs completed', timeoutMs: 30_000 });

    // Exactly once: one folder and one manifest per package, bytes equal to the source.
    expect(done).toHaveLength(PACKAGES);
    expect(new Set(done.map((d) => d.manifest.packageId)).size).toBe(PACKAGES);
    expect(readdirSync(downloads())).toHaveLength(PACKAGES);
    for (const pkg of packages) {
      const got = done.find((d) => d.manifest.title === pkg.title);
      expect(got, pkg.title).toBeDefined();
      for (const f of pkg.files) {
        const onDisk = walk(got!.folder).find((p) => p.endsWith(`/${f.path}`));
        expect(onDisk, `${pkg.title}/${f.path}`).toBeDefined();
        expect(readFileSync(onDisk!).equals(readFileSync(join(pkg.dir, f.path)))).toBe(true);
      }
      expect(walk(got!.folder).filter((p) => p.endsWith('.partial') || /\.tmp-/.test(relative(got!.folder, p)) && !p.includes('.faspex-package.json.tmp-'))).toEqual([]);
    }

    // Nothing downloaded again once its manifest existed.
    const runs = invocations(stateDir());
    for (const pkg of packages) {
      const manifest = done.find((d) => d.manifest.title === pkg.title)!;
      const late = runs.filter((r) => r.argv.some((a) => a.includes(pkg.uuid)) && r.at > manifest.mtimeMs);
      expect(late, `${pkg.title}: ascp after its manifest`).toEqual([]);
    }

    // Resume, not restart: the bytes moved stay close to the packages' size.
    const total = packages.reduce((n, p) => n + p.totalBytes, 0);
    const moved = bytesTransferred(stateDir());
    console.info(`crash suite: ${runs.length} ascp runs, ${moved} bytes moved for ${total} bytes of packages (ratio ${(moved / total).toFixed(3)})`);
    expect(moved).toBeGreaterThanOrEqual(total * 0.95);
    expect(moved).toBeLessThanOrEqual(total * 1.3);
    // and tighter: -k 2 restarts each file at its partial's size, so almost nothing is sent twice
    expect(moved).toBeLessThanOrEqual(total * 1.05);

    // Redelivered mail after the crashes: queued nothing new, ran no ascp.
    const before = runs.length;
    for (const [i, pkg] of packages.slice(0, 2).entries()) await dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: pkg.title, messageId: `<crash-again-${i}@faspex.example.com>` }));
    await waitFor(() => (last.output().match(/crash-again-/g) ?? []).length >= 2, { what: 'the redelivered mail to be read', timeoutMs: 20_000 });
    const s = JSON.parse((await runCli(['status', '--json'], { env, cwd: dir.path })).stdout);
    expect(s.queues.downloads).toMatchObject({ completed: PACKAGES, failed: 0, waiting: 0, active: 0, delayed: 0 });
    expect(invocations(stateDir())).toHaveLength(before);
    expect(await last.stop('SIGTERM')).toBe(0);
  }, 170_000);
});
