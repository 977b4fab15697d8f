/**
 * What does the packages page cost, and does it grow with history? A queue holding what a busy
 * week leaves behind (1,000 completed packages with their progress and results, 200 failed, 50
 * waiting: 1,250 kept), then the same mix at 50,000 kept (40,000 / 8,000 / 2,000), in the same
 * run. For each: the page (`GET /`), a page of one state deep in the history, a search, and one
 * tick of its live feed, timed over HTTP. Baseline in the same run, Redis and process, at each
 * size: bull-board's own poll of the same queue (`/api/queues?activeQueue=downloads&status=latest`),
 * what its UI asks every few seconds. The page's read cache is off (viewCacheMs 0).
 *
 * The jobs are added with addBulk and finished by hand (no index writes), then indexed by one
 * pass of the sweep, as an existing deployment's history is on the first start: that pass's time
 * and the index's memory are printed too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startDashboard } from '../src/dashboard/index.js';
import { sweepIndex } from '../src/dashboard/packages/index-sweep.js';
import { createLogger } from '../src/log/logger.js';
import { QUEUE } from '../src/queue/queues.js';
import { createHealthCheck, redisPingProbe } from '../src/service/health.js';
import { createMetrics } from '../src/service/metrics.js';
import { startRedisServer } from '../src/service/redis-server.js';
import { fmt, log, percentile, printTable, runBenchmark, type Figure } from './support/report.js';

const SIZES = (process.env.BENCH_PAGE_SIZES ?? '1250,50000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_PAGE_ROUNDS ?? 30);
const TARGET_RATIO = 3;

runBenchmark('packages-page', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fi-bench-page-'));
  const redis = await startRedisServer({ dir });
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const figures: Figure[] = [];
  const notes: string[] = [];
  try {
    for (const [n, size] of SIZES.entries()) {
      const prefix = `bench-page-${n}`;
      const queue = new Queue(QUEUE.downloads, { connection, prefix });
      const dashboard = await startDashboard({
        queues: [queue],
        config: { host: '127.0.0.1', port: 0, user: undefined, password: undefined, readOnly: false },
        metrics: createMetrics({ defaultMetrics: false }),
        health: createHealthCheck({ redis: redisPingProbe(connection) }),
        logger: createLogger({ level: 'silent' }),
        // the cost of one read of the queue, not of the cache that shares it between pages
        viewCacheMs: 0,
        // swept once below, before the timing; not again in the middle of it
        indexSweepMs: 3_600_000,
      });
      try {
        const COMPLETED = Math.round(size * 0.8);
        const FAILED = Math.round(size * 0.16);
        const WAITING = size - COMPLETED - FAILED;
        log(`${size} kept: filling the queue: ${COMPLETED} completed, ${FAILED} failed, ${WAITING} waiting`);
        await fill(queue, connection, COMPLETED, FAILED, WAITING);
        const counts = await queue.getJobCounts('completed', 'failed', 'waiting');
        const memBefore = await usedMemory(connection);
        const t0 = performance.now();
        const swept = await sweepIndex(queue as never);
        const sweepMs = performance.now() - t0;
        const indexBytes = (await usedMemory(connection)) - memBefore;
        log(`queue: ${JSON.stringify(counts)}; first sweep indexed ${swept.indexed} in ${fmt(sweepMs, 0)} ms, index ≈ ${fmt(indexBytes / 1024 / 1024, 1)} MiB`);
        notes.push(`${size} kept: ${counts.completed} completed, ${counts.failed} failed, ${counts.waiting} waiting; the first sweep indexed them in ${fmt(sweepMs, 0)} ms; the index holds ≈ ${fmt(indexBytes / 1024 / 1024, 1)} MiB of Redis (${fmt(indexBytes / size, 0)} B a package)`);

        let request = 0;
        const time = async (path: string | ((i: number) => string), read: (r: Response) => Promise<unknown>) => {
          const samples: number[] = [];
          for (let i = 0; i < ROUNDS + 3; i++) {
            const t = performance.now();
            const r = await fetch(new URL(typeof path === 'string' ? path : path(request++), dashboard.url));
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
        const deep = Math.max(1, Math.floor(COMPLETED / 25 / 2));
        const probes: [string, string | ((i: number) => string), (r: Response) => Promise<unknown>][] = [
          ['GET / (packages page)', '', (r) => r.text()],
          [`GET /?show=done&page=${deep} (a page in the middle of the history)`, `?show=done&page=${deep}`, (r) => r.text()],
          // a new search each time (`reel 1000`, `reel 1001`, …): none is served from the last one's result
          ['GET /?q=reel <n> (a new search over every kept package)', (i) => `?q=reel%20${1000 + (i % 200)}`, (r) => r.text()],
          ['one live-feed update (first event)', 'packages/live', firstEvent],
        ];
        // alternated, so a burst of another suite lands on every side
        const board: number[] = [];
        const measured: number[][] = probes.map(() => []);
        for (let round = 0; round < 3; round++) {
          board.push(await time('api/queues?activeQueue=downloads&status=latest&page=1&jobsPerPage=10', (r) => r.text()));
          for (const [i, [, path, read]] of probes.entries()) measured[i]!.push(await time(path, read));
        }
        const b = percentile(board, 50);
        for (const [i, [label]] of probes.entries()) {
          const p = percentile(measured[i]!, 50);
          figures.push({ figure: `${size.toLocaleString('en')} kept: ${label}, p50 of ${ROUNDS}×3`, target: `≤ ${TARGET_RATIO} × bull-board`, measured: `${fmt(p, 1)} ms`, baseline: `${fmt(b, 1)} ms: bull-board's poll`, ratio: fmt(p / b), pass: p / b <= TARGET_RATIO });
        }
      } finally {
        await dashboard.close();
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      }
    }
    printTable('packages page', figures, notes);
  } finally {
    connection.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? NaN);
}

async function fill(queue: Queue, connection: Redis, completed: number, failed: number, waiting: number): Promise<void> {
  const data = (i: number) => ({
    link: `https://fx.example.com/aspera/faspex/external_deliveries/${i}?passcode=${'ab'.repeat(20)}`,
    kind: 'faspex4-external', server: i % 7 === 0 ? 'fx2.example.com' : 'fx.example.com', packageId: String(i),
    source: { type: 'mail', subject: `Faspex package: reel ${i}`, from: `Sender ${i} via Faspex <faspex@fx.example.com>` },
    queuedAt: new Date(Date.now() - i * 60_000).toISOString(),
  });
  const add = async (from: number, n: number, finish?: (i: number) => Record<string, string>) => {
    for (let i = from; i < from + n; i += 500) {
      const batch = Array.from({ length: Math.min(500, from + n - i) }, (_, k) => i + k);
      const jobs = await queue.addBulk(batch.map((j) => ({ name: `Faspex package: reel ${j}`, data: data(j), opts: { jobId: `job-${j}` } })));
      if (!finish) continue;
      // Finished by hand (a worker would take minutes): the same hash fields and sets BullMQ
      // writes, so the page reads exactly what it would in production.
      const multi = connection.multi();
      for (const job of jobs) {
        const fields = finish(Number(job.data.packageId));
        multi.hset(queue.toKey(job.id!), fields);
        multi.lrem(queue.toKey('wait'), 0, job.id!);
        multi.zadd(queue.toKey(fields.failedReason ? 'failed' : 'completed'), Date.now() - Number(job.data.packageId), job.id!);
      }
      await multi.exec();
    }
  };
  const progress = (i: number) => JSON.stringify({ phase: 'done', bytes: 7_000_000 + i, total: 7_000_000 + i, title: `Reel ${i}`, sender: `sender${i}@studio.example.com`, folder: `/data/downloads/fx.example.com_${i}_Reel ${i}`, at: Date.now() });
  await add(0, completed, (i) => ({ progress: progress(i), returnvalue: JSON.stringify({ folder: `/data/downloads/fx.example.com_${i}_Reel ${i}`, title: `Reel ${i}`, bytesTransferred: 7_000_000 + i, alreadyComplete: false, files: 3 }), finishedOn: String(Date.now()), attemptsMade: '1' }));
  await add(completed, failed, () => ({ failedReason: 'the server answered with a web page instead of the package description [LINK_EXPIRED]', finishedOn: String(Date.now()), attemptsMade: '1' }));
  await add(completed + failed, waiting);
}
