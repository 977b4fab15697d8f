import { mkdirSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { peakSessions, sessionEvents } from '../../src/standins/fake-ascp/records.js';
import { completePackages, killLeftoverAscp } from '../support/proof.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';
import { loadConfig } from '../../src/config/config.js';
import { parsePackageLink } from '../../src/faspex/link.js';
import { downloadJobOptions, enqueueDownloads } from '../../src/queue/producer.js';
import { QUEUE, type DownloadJobData } from '../../src/queue/queues.js';
import { targetFromUrl } from '../../src/service/redis-target.js';

/**
 * Caps per Faspex server, held in Redis across processes: two `work` processes with three
 * workers each (six at once) against one simulated Faspex server. The fake ascp's own session
 * log says how many transfers ran at once; DOWNLOAD_ATTEMPTS=1 means any attempt spent waiting
 * would fail a package.
 */
describe('transfer caps across workers', () => {
  const PACKAGES = 8;
  let sim: FaspexSim;
  let workers: ServiceProcess[] = [];
  let env: Record<string, string>;
  let dir: ReturnType<typeof tempDir> | undefined;

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    workers = [];
    if (env) killLeftoverAscp(env.FAKE_ASCP_STATE_DIR!);
    await sim?.close();
    dir?.remove();
  });

  /** as `enqueue` does, in one call (a CLI process per link would cost more than the test) */
  async function enqueueAll(e: Record<string, string>, links: string[]): Promise<void> {
    const config = loadConfig(e, 'enqueue');
    const target = targetFromUrl(e.REDIS_URL!);
    const conn = target.connect('producer');
    const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: conn, prefix: config.redis.prefix });
    try {
      await enqueueDownloads(queue, links.map((l) => ({ link: parsePackageLink(l), source: { type: 'cli' as const } })), downloadJobOptions(config.workers));
    } finally {
      await queue.close();
      conn.disconnect();
    }
  }

  async function runBatch(extra: (sim: FaspexSim) => Record<string, string>): Promise<{ peak: number; refused: number; jobs: Array<{ attemptsMade: number; attemptsStarted: number; state: string; announced: number }> }> {
    sim = await createFaspexSim();
    dir = tempDir('caps');
    const noImap = { host: '127.0.0.1', imapPort: 1, user: 'none', password: 'none' } as Dovecot;
    env = serviceEnv({
      redisUrl: inject('redisUrl'), prefix: uniqueName('caps'), dovecot: noImap, sim, dir: dir.path,
      extra: { WORKER_CONCURRENCY: '3', DOWNLOAD_ATTEMPTS: '1', FAKE_ASCP_RATE_BPS: '500000', LOG_LEVEL: 'info', ...extra(sim) },
    });
    mkdirSync(env.DATA_DIR!, { recursive: true });
    const cwd = env.DATA_DIR!;
    // all queued before any worker starts, so six are there to compete at once
    const pkgs = Array.from({ length: PACKAGES }, (_, i) => sim.addPackage({ title: `Capped ${i}`, files: { 'f.bin': 600_000 } }));
    await enqueueAll(env, pkgs.map((p) => p.links.external));
    workers = [startServiceProcess(['work'], env, cwd), startServiceProcess(['work'], env, cwd)];
    await Promise.all(workers.map((w) => waitFor(() => {
      if (w.child.exitCode !== null) throw new Error(`work exited: ${w.output()}`);
      return w.output().includes('download workers started');
    }, { what: 'the workers to start', timeoutMs: 30_000 })));
    await waitFor(() => completePackages(env.DOWNLOAD_DIR!).length === PACKAGES, { what: 'every package', timeoutMs: 60_000, intervalMs: 100 });

    const redis = new Redis(inject('redisUrl'));
    const queue = new Queue(QUEUE.downloads, { connection: redis, prefix: env.QUEUE_PREFIX });
    try {
      // the manifest is written before the worker reports the job done: wait for Redis to agree
      await waitFor(async () => {
        const counts = await queue.getJobCounts('completed', 'failed');
        return (counts.completed ?? 0) + (counts.failed ?? 0) === PACKAGES;
      }, { what: 'every job to end in the queue', timeoutMs: 30_000, intervalMs: 100 });
      const jobs = await queue.getJobs(['completed', 'failed', 'delayed', 'waiting', 'active']);
      const states = await Promise.all(jobs.map(async (j) => ({
        attemptsMade: j.attemptsMade,
        attemptsStarted: j.attemptsStarted,
        state: await j.getState(),
        // "attempt N of M" lines in the job's log: one per attempt, however often it waited for a slot
        announced: (await queue.getJobLogs(j.id!)).logs.filter((l) => l.startsWith('attempt ')).length,
      })));
      const events = sessionEvents(env.FAKE_ASCP_STATE_DIR!);
      return { peak: peakSessions(events, '127.0.0.1'), refused: events.filter((e) => e.event === 'refused').length, jobs: states };
    } finally {
      await queue.close();
      redis.disconnect();
    }
  }

  const allDone = (jobs: Array<{ attemptsMade: number; state: string }>) => {
    expect(jobs).toHaveLength(PACKAGES);
    expect(jobs.map((j) => j.state)).toEqual(Array(PACKAGES).fill('completed'));
    // one attempt each: the one that succeeded (DOWNLOAD_ATTEMPTS=1 leaves no room for another)
    expect(jobs.map((j) => j.attemptsMade)).toEqual(Array(PACKAGES).fill(1));
  };

  it('without a cap, six workers run more than two transfers at once (the control)', async () => {
    const r = await runBatch(() => ({}));
    allDone(r.jobs);
    expect(r.peak).toBeGreaterThan(2);
  }, 90_000);

  it('with a cap of 2 on the server, never more than 2 run, and waiting spends no attempt', async () => {
    // the per-server entry wins over the looser default
    const r = await runBatch((s) => ({ FASPEX_MAX_TRANSFERS_PER_SERVER: '5', FASPEX_MAX_TRANSFERS: `${s.allowEntry}=2` }));
    allDone(r.jobs);
    expect(r.peak).toBe(2);
    // jobs did wait: started more often than they were attempted
    expect(r.jobs.reduce((n, j) => n + j.attemptsStarted, 0)).toBeGreaterThan(PACKAGES);
    expect(r.jobs.map((j) => j.announced)).toEqual(Array(PACKAGES).fill(1));
  }, 90_000);

  it('a server that refuses sessions beyond 2 (ascp 69) gets its cap lowered, and no package fails', async () => {
    const r = await runBatch(() => ({ FAKE_ASCP_MAX_SESSIONS: '2' }));
    allDone(r.jobs);
    expect(r.refused).toBeGreaterThan(0);
    expect(r.peak).toBeLessThanOrEqual(2);
    expect(workers.map((w) => w.output()).join('')).toMatch(/transfer host 127\.0\.0\.1 refused a session with \d+ running; its cap is \d+ for a while/);
  }, 90_000);
});
