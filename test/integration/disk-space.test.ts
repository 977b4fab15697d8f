/**
 * Disk space, through the real `run` with a real Redis and Dovecot, on a small tmpfs the test
 * mounts (as root): a disk that fills during a download makes the fake ascp fail as a real one
 * does (error 25, from a real ENOSPC), the job waits without spending an attempt, the alert's
 * metric moves, and the package completes by itself, resumed, once space is freed; a package
 * larger than the free space waits before any transfer, shown with the numbers, until the file
 * system grows.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/service/redis-server.js';
import { bytesTransferred, invocations } from '../../src/standins/fake-ascp/records.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { runCli } from '../support/cli.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

const MiB = 1024 * 1024;
const dir = tempDir('disk');
const mnt = join(dir.path, 'mnt');

/** Mounts a 24 MiB tmpfs; the reason when that is impossible here (not root, no mount rights). */
function mountSmallFs(): string | undefined {
  mkdirSync(mnt, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0755', 'tmpfs', mnt], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs (${String((e as { stderr?: Buffer }).stderr ?? e).trim()}); this test needs root with mount rights`;
  }
}
const cannotMount = mountSmallFs();

/** Writes into `path` until the file system says ENOSPC. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(MiB, 7);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return written;
}

describe.skipIf(cannotMount !== undefined)(`waiting for disk space${cannotMount ? ` (skipped: ${cannotMount})` : ''}`, () => {
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let service: ServiceProcess;
  let env: Record<string, string>;
  let redis: Redis;
  let downloads: Queue;
  let dashboardPort: number;
  const prefix = uniqueName('disk');

  beforeAll(async () => {
    [dovecot, sim] = await Promise.all([startDovecot(), createFaspexSim()]);
    dashboardPort = await freePort();
    env = serviceEnv({
      redisUrl: inject('redisUrl'), prefix, dovecot, sim, dir: dir.path, dashboardPort,
      extra: { DOWNLOAD_DIR: join(mnt, 'downloads'), DOWNLOAD_DIR_RESERVE_MB: '0', DISK_SPACE_RECHECK_SECONDS: '1', FAKE_ASCP_RATE_BPS: String(2 * MiB) },
    });
    service = startServiceProcess(['run'], env, dir.path);
    await waitFor(() => service.output().includes('running;'), { what: 'the service', timeoutMs: 60_000 });
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    downloads = new Queue('downloads', { connection: redis, prefix });
  }, 120_000);

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await downloads?.close();
    redis?.disconnect();
    await Promise.all([dovecot?.stop(), sim?.close()]);
    try {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
    } catch {
      // never mounted
    }
    dir.remove();
  });

  const metric = async (cause: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${dashboardPort}/metrics`)).text();
    const m = new RegExp(`^faspex_ingest_disk_space_waits_total\\{cause="${cause}"\\} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  const jobOf = async (title: string): Promise<Job | undefined> =>
    (await downloads.getJobs(['active', 'delayed', 'waiting', 'completed', 'failed'], 0, 20)).find((j) => j?.name.includes(title));

  it('a disk that fills during the transfer: error 25, a wait with no attempt spent, the metric, then a resume once space is freed', async () => {
    const pkg = sim.addPackage({ title: 'Filled up', files: { 'master.mov': 8 * MiB } });
    await dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: 'Filled up' }));
    await waitFor(async () => (((await jobOf('Filled up'))?.progress as { bytes?: number } | undefined)?.bytes ?? 0) > 2 * MiB, { what: 'the transfer to be under way', timeoutMs: 60_000, intervalMs: 50 });
    const filler = join(mnt, 'filler.bin');
    expect(fill(filler)).toBeGreaterThan(0);

    const waiting = await waitFor(async () => {
      const job = await jobOf('Filled up');
      const p = job?.progress as { phase?: string; waitingFor?: string } | undefined;
      return job && (await job.getState()) === 'delayed' && p?.phase === 'waiting' ? { job, p } : undefined;
    }, { what: 'the job to wait for disk space', timeoutMs: 60_000 });
    expect(waiting.p.waitingFor).toMatch(/^waiting for disk space: the download disk is full.*ascp error 25 NO_SPACE_LEFT: Disk write failed: No space left on disk/);
    expect(waiting.job.attemptsMade).toBe(0);
    expect(waiting.job.failedReason ?? null).toBeNull();
    await waitFor(async () => (await metric('disk_full')) >= 1, { what: 'the disk_full count to move' });
    // it keeps looking, at the folder only: no new transfer, still no attempt spent
    const looks = await metric('before_start');
    await waitFor(async () => (await metric('before_start')) >= looks + 2, { what: 'more looks while the disk stays full', timeoutMs: 30_000 });
    expect(invocations(env.FAKE_ASCP_STATE_DIR!)).toHaveLength(1);
    const folder = join(mnt, 'downloads', readdirSync(join(mnt, 'downloads'))[0]!);
    const partial = readdirSync(folder, { recursive: true }).map(String).find((f) => f.endsWith('.partial'));
    expect(partial, 'the partial file stays for the resume').toBeDefined();
    const kept = statSync(join(folder, partial!)).size;
    expect(kept).toBeGreaterThan(2 * MiB);
    expect((await jobOf('Filled up'))!.attemptsMade).toBe(0);

    rmSync(filler);
    const done = await waitFor(async () => {
      const job = await jobOf('Filled up');
      // read again once completed: a job read while active still says attemptsMade 0
      return job && (await job.getState()) === 'completed' ? downloads.getJob(job.id!) : undefined;
    }, { what: 'the package to complete once space is back', timeoutMs: 90_000 });
    expect(done.attemptsMade).toBe(1); // the one that succeeded: none was spent on the full disk
    const runs = invocations(env.FAKE_ASCP_STATE_DIR!);
    expect(runs).toHaveLength(2);
    // resumed: both runs together moved about the package once, not once and a half
    expect(bytesTransferred(env.FAKE_ASCP_STATE_DIR!)).toBeLessThan(8 * MiB + 2 * MiB);
    const file = readdirSync(folder, { recursive: true }).map(String).find((f) => f.endsWith('master.mov'))!;
    expect(readFileSync(join(folder, file)).equals(readFileSync(join(sim.storeDir, readdirSync(sim.storeDir, { recursive: true }).map(String).find((f) => f.endsWith('master.mov'))!)))).toBe(true);
  }, 300_000);

  it('a package larger than the free space waits before any transfer, with the numbers, until there is room', async () => {
    const before = invocations(env.FAKE_ASCP_STATE_DIR!).length;
    const looks = await metric('before_start');
    const pkg = sim.addPackage({ title: 'Too big', files: { 'huge.mov': 30 * MiB } });
    await dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: 'Too big' }));
    const waiting = await waitFor(async () => {
      const job = await jobOf('Too big');
      const p = job?.progress as { phase?: string; waitingFor?: string } | undefined;
      return job && (await job.getState()) === 'delayed' && p?.phase === 'waiting' ? { job, p } : undefined;
    }, { what: 'the job to wait for disk space', timeoutMs: 60_000 });
    expect(waiting.p.waitingFor).toMatch(/^waiting for disk space: 30\.0 MiB still to download, \d+(\.\d)? MiB free, 0 B kept back \(DOWNLOAD_DIR_RESERVE_MB\)$/);
    expect(waiting.job.attemptsMade).toBe(0);
    await waitFor(async () => (await metric('before_start')) > looks, { what: 'the before_start count to move' });
    expect(invocations(env.FAKE_ASCP_STATE_DIR!)).toHaveLength(before);

    // while it waits (delayed, or active for the moment it looks again), status and the page say so
    const entry = await waitFor(async () => {
      const status = await runCli(['status', '--json'], { env: { ...env, DASHBOARD_PORT: '0' }, cwd: dir.path });
      return (JSON.parse(status.stdout) as { jobs: { name: string; state: string; waitingFor: string | null; reason: string | null }[] }).jobs.find((j) => j.name.includes('Too big') && j.state === 'delayed');
    }, { what: 'status to show the wait', timeoutMs: 60_000 });
    expect(entry).toMatchObject({ reason: null, waitingFor: expect.stringMatching(/^waiting for disk space: 30\.0 MiB still to download/) });
    const page = await (await fetch(`http://127.0.0.1:${dashboardPort}/`)).text();
    expect(page).toMatch(/waiting for disk space: 30\.0 MiB still to download/);

    execFileSync('mount', ['-o', 'remount,size=96m', mnt], { stdio: 'pipe' });
    const done = await waitFor(async () => {
      const job = await jobOf('Too big');
      return job && (await job.getState()) === 'completed' ? downloads.getJob(job.id!) : undefined;
    }, { what: 'the package to complete once the file system grew', timeoutMs: 120_000 });
    expect(done.attemptsMade).toBe(1);
    expect(invocations(env.FAKE_ASCP_STATE_DIR!)).toHaveLength(before + 1);
  }, 300_000);
});
