/**
 * What does the packages page cost? A queue holding what a busy week leaves behind (1,000
 * completed packages with their progress and results, 200 failed, 50 waiting), then the page
 * (`GET /`, every state read and filtered) and one tick of its live feed, timed over HTTP.
 * Baseline in the same run, Redis and process: bull-board's own poll of the same queue
 * (`/api/queues?activeQueue=downloads&status=latest`), what its UI asks every few seconds.
 * The page's read cache is off here (viewCacheMs 0): in service one read per second is shared by
 * every open page and live feed, so this is the cost per second, not per viewer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startDashboard } from '../src/dashboard/index.js';
import { createLogger } from '../src/log/logger.js';
import { QUEUE } from '../src/queue/queues.js';
import { createHealthCheck, redisPingProbe } from '../src/service/health.js';
import { createMetrics } from '../src/service/metrics.js';
import { startRedisServer } from '../src/service/redis-server.js';
import { fmt, log, percentile, printTable, runBenchmark } from './support/report.js';

const COMPLETED = Number(process.env.BENCH_PAGE_COMPLETED ?? 1000);
const FAILED = 200;
const WAITING = 50;
const ROUNDS = Number(process.env.BENCH_PAGE_ROUNDS ?? 30);
const TARGET_MS = 250;

runBenchmark('packages-page', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fi-bench-page-'));
  const redis = await startRedisServer({ dir });
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE.downloads, { connection, prefix: 'bench-page' });
  const dashboard = await startDashboard({
    queues: [queue],
    config: { host: '127.0.0.1', port: 0, user: undefined, password: undefined, readOnly: false },
    metrics: createMetrics({ defaultMetrics: false }),
    health: createHealthCheck({ redis: redisPingProbe(connection) }),
    logger: createLogger({ level: 'silent' }),
    // the cost of one read of the queue, not of the cache that shares it between pages
    viewCacheMs: 0,
  });
  try {
    log(`filling the queue: ${COMPLETED} completed, ${FAILED} failed, ${WAITING} waiting`);
    const data = (i: number) => ({
      link: `https://fx.example.com/aspera/faspex/external_deliveries/${i}?passcode=${'ab'.repeat(20)}`,
      kind: 'faspex4-external', server: 'fx.example.com', packageId: String(i),
      source: { type: 'mail', subject: `Faspex package: reel ${i}`, from: `Sender ${i} via Faspex <faspex@fx.example.com>` },
      queuedAt: new Date(Date.now() - i * 60_000).toISOString(),
    });
    const add = async (from: number, n: number, finish?: (key: string, i: number) => Record<string, string>) => {
      for (let i = from; i < from + n; i += 500) {
        const batch = Array.from({ length: Math.min(500, from + n - i) }, (_, k) => i + k);
        const jobs = await queue.addBulk(batch.map((j) => ({ name: `Faspex package: reel ${j}`, data: data(j), opts: { jobId: `job-${j}` } })));
        if (!finish) continue;
        // Finished by hand (a worker would take minutes for 1,200 jobs): the same hash fields
        // and sets BullMQ writes, so getJobs reads exactly what it would in production.
        const multi = connection.multi();
        for (const job of jobs) {
          const fields = finish(queue.toKey(job.id!), Number(job.data.packageId));
          multi.hset(queue.toKey(job.id!), fields);
          multi.lrem(queue.toKey('wait'), 0, job.id!);
          multi.zadd(queue.toKey(fields.failedReason ? 'failed' : 'completed'), Date.now(), job.id!);
        }
        await multi.exec();
      }
    };
    const progress = (i: number) => JSON.stringify({ phase: 'done', bytes: 7_000_000 + i, total: 7_000_000 + i, title: `Reel ${i}`, sender: `sender${i}@studio.example.com`, folder: `/data/downloads/fx.example.com_${i}_Reel ${i}`, at: Date.now() });
    await add(0, COMPLETED, (_k, i) => ({ progress: progress(i), returnvalue: JSON.stringify({ folder: `/data/downloads/fx.example.com_${i}_Reel ${i}`, title: `Reel ${i}`, bytesTransferred: 7_000_000 + i, alreadyComplete: false, files: 3 }), finishedOn: String(Date.now()), attemptsMade: '1' }));
    await add(COMPLETED, FAILED, () => ({ failedReason: 'the server answered with a web page instead of the package description [LINK_EXPIRED]', finishedOn: String(Date.now()), attemptsMade: '1' }));
    await add(COMPLETED + FAILED, WAITING);
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting');
    log(`queue: ${JSON.stringify(counts)}`);

    const time = async (path: string, read: (r: Response) => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS + 3; i++) {
        const t = performance.now();
        const r = await fetch(new URL(path, dashboard.url));
        if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
        await read(r);
        if (i >= 3) samples.push(performance.now() - t); // 3 warm-up rounds
      }
      return percentile(samples, 50);
    };
    const firstEvent = async (r: Response) => {
      const reader = r.body!.getReader();
      let text = '';
      while (!text.includes('event: update')) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
    };
    // alternated, so a burst of another suite lands on both sides
    const board: number[] = [];
    const page: number[] = [];
    const live: number[] = [];
    for (let round = 0; round < 3; round++) {
      board.push(await time('api/queues?activeQueue=downloads&status=latest&page=1&jobsPerPage=10', (r) => r.text()));
      page.push(await time('', (r) => r.text()));
      live.push(await time('packages/live', firstEvent));
    }
    const b = percentile(board, 50);
    const p = percentile(page, 50);
    const l = percentile(live, 50);
    printTable('packages page', [
      { figure: `GET / (packages page), p50 of ${ROUNDS}×3`, target: `≤ ${TARGET_MS} ms`, measured: `${fmt(p, 1)} ms`, baseline: `${fmt(b, 1)} ms: bull-board's poll`, ratio: fmt(p / b), pass: p <= TARGET_MS },
      { figure: 'one live-feed update (first event)', target: `≤ ${TARGET_MS} ms`, measured: `${fmt(l, 1)} ms`, baseline: `${fmt(b, 1)} ms`, ratio: fmt(l / b), pass: l <= TARGET_MS },
    ], [`queue: ${counts.completed} completed, ${counts.failed} failed, ${counts.waiting} waiting; the page reads up to 1,000 jobs of each state`]);
  } finally {
    await dashboard.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    connection.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
