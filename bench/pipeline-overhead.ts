/**
 * How much does the pipeline add per package? N small packages queued before the workers
 * start, then drained one at a time (WORKER_CONCURRENCY=1) by `faspex-ingest work`: job
 * pick-up, payload check, resolve against the Faspex simulator (HTTPS, description + token),
 * ascp with a management port, progress and logs in Redis, manifest. Baseline in the same run
 * and Redis: a bare BullMQ Worker in this process whose processor only spawns the same fake
 * ascp (argv from the same builder, token pre-minted) and waits for it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { buildAscpCommand } from '../src/fasp/ascp-command.js';
import { parseFaspUrl } from '../src/fasp/fasp-url.js';
import { parsePackageLink } from '../src/faspex/link.js';
import { enqueueDownloads } from '../src/queue/producer.js';
import { QUEUE } from '../src/queue/queues.js';
import { FAKE_ASCP } from '../test/support/service-env.js';
import { fmt, log, percentile, printTable, runBenchmark } from './support/report.js';
import { startStack, waitFor } from './support/stack.js';

const JOBS = Number(process.env.BENCH_PIPELINE_JOBS ?? 60);
const TARGET_MS = 20;
// effectively instant: one 20 ms tick of the fake per file, the same on both sides
const INSTANT = { FAKE_ASCP_RATE_BPS: String(1e9), WORKER_CONCURRENCY: '1' };

type BareJob = { args: string[]; env: Record<string, string> };

/**
 * Per-job time: the median gap between consecutive finishes (pick-up included), read from
 * BullMQ. A median, because other suites share the two cores and a burst of theirs would
 * otherwise land on whichever side was running.
 */
async function span(queue: Queue): Promise<{ perJobMs: number; completed: number }> {
  const jobs = await queue.getJobs(['completed'], 0, -1);
  const ends = jobs.map((j) => j.finishedOn ?? 0).sort((a, b) => a - b);
  const gaps = ends.slice(1).map((t, i) => t - ends[i]!);
  return { perJobMs: percentile(gaps, 50), completed: jobs.length };
}

runBenchmark('pipeline-overhead', async () => {
  const stack = await startStack('pipeline', INSTANT);
  const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: null });
  const downloads = new Queue(QUEUE.downloads, { connection: redis, prefix: stack.prefix });
  const bareQueue = new Queue<BareJob>('bare', { connection: redis, prefix: stack.prefix });
  let worker: Worker<BareJob> | undefined;
  try {
    const pkgs = Array.from({ length: JOBS }, (_, i) => stack.sim.addPackage({ title: `Overhead ${i}`, files: { 'a.bin': 4096 } }));

    // Baseline first: the bare worker, same fake ascp, same package sizes.
    const fakeEnv = { PATH: process.env.PATH ?? '', FAKE_ASCP_STORE: stack.sim.storeDir, FAKE_FASPEX_SECRET: stack.sim.tokenSecret, FAKE_ASCP_RATE_BPS: INSTANT.FAKE_ASCP_RATE_BPS, FAKE_ASCP_STATE_DIR: join(stack.dir, 'bare-state') };
    await bareQueue.addBulk(
      pkgs.map((pkg, i) => {
        const cmd = buildAscpCommand(parseFaspUrl(stack.sim.faspUrlWithToken(pkg)), { destination: join(stack.dir, 'bare', String(i)), sshKeyPath: stack.env.ASCP_SSH_KEY, quiet: true });
        return { name: 'bare', data: { args: cmd.args, env: cmd.env } };
      }),
    );
    const bareProcessor = (job: Job<BareJob>) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(FAKE_ASCP, job.data.args, { env: { ...fakeEnv, ...job.data.env }, stdio: 'ignore' });
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`fake ascp exited ${code}`))));
      });
    worker = new Worker<BareJob>('bare', bareProcessor, { connection: redis.duplicate(), prefix: stack.prefix, concurrency: 1 });
    await waitFor(async () => (await bareQueue.getJobCounts('completed', 'failed')).completed === JOBS, { what: 'the bare worker', timeoutMs: 300_000, intervalMs: 100 });
    await worker.close();
    const bare = await span(bareQueue);
    log(`bare worker: ${bare.perJobMs.toFixed(1)} ms per job`);

    const options = { attempts: 1, removeOnComplete: false, removeOnFail: false };
    await enqueueDownloads(downloads, pkgs.map((pkg) => ({ link: parsePackageLink(pkg.links.external), source: { type: 'cli' as const } })), options);
    const service = await stack.startService(['work']);
    await waitFor(async () => {
      const c = await downloads.getJobCounts('completed', 'failed');
      if (c.failed) throw new Error(`${c.failed} download job(s) failed:\n${service.output().slice(-1500)}`);
      return c.completed === JOBS;
    }, { what: 'the service to drain the queue', timeoutMs: 300_000, intervalMs: 100 });
    const piped = await span(downloads);
    const added = piped.perJobMs - bare.perJobMs;
    printTable(`pipeline overhead: ${JOBS} jobs, concurrency 1, instant stand-ins`, [
      { figure: 'time added per job by the pipeline', target: `≤ ${TARGET_MS} ms`, measured: `${fmt(added, 1)} ms`, baseline: `${fmt(bare.perJobMs, 1)} ms/job bare worker`, ratio: fmt(piped.perJobMs / bare.perJobMs), pass: added <= TARGET_MS },
    ], [`service: ${fmt(piped.perJobMs, 1)} ms per job (resolve over HTTPS, token, ascp with management port, progress, manifest); bare: spawn the fake ascp and wait`]);
  } finally {
    await worker?.close().catch(() => undefined);
    await Promise.all([downloads.close(), bareQueue.close()]).catch(() => undefined);
    redis.disconnect();
    await stack.stopAll();
  }
});
