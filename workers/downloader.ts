/**
 * The download role: BullMQ workers on the `downloads` queue (and `notifications` when a
 * webhook is configured, `handoffs` when ON_COMPLETE_COMMAND is). Entry for `faspex-ingest work` and part of `run`.
 *
 * Failure contract:
 * - Start-up fails (and the process exits non-zero with one line) when ascp or its token key
 *   cannot be found: a worker that cannot transfer must not take jobs.
 * - A job's permanent failure fails that job at once; transient failures retry with backoff
 *   (see src/queue/download-processor.ts). Nothing a job does can stop the worker.
 * - Redis outages: the worker's connection retries forever and carries on when Redis is back;
 *   jobs that were running finish and report when the connection returns.
 * - SIGTERM: running transfers are stopped cleanly and their jobs go back to the queue without
 *   spending an attempt; partial files stay for the resume.
 * - SIGKILL or a host crash: the job's lock expires (WORKER_LOCK_SECONDS) and another worker,
 *   or this one after restart, runs it again, resuming from the partial files when it sees them.
 */
import type { Job } from 'bullmq';
import { locateAscp, type AscpInstallation } from '../src/ascp/locate.js';
import type { DownloadResult } from '../src/ascp/download-package.js';
import type { IngestError } from '../src/errors.js';
import { createResolver } from '../src/faspex/resolver.js';
import type { PackageResolver } from '../src/faspex/resolved-package.js';
import { maskText } from '../src/log/secrets.js';
import { downloadBackoff } from '../src/queue/backoff.js';
import type { createDownloadProcessor, DownloadOutcomeListener } from '../src/queue/download-processor.js';
import { renameJob } from '../src/queue/job-name.js';
import { TransferSlots } from '../src/queue/transfer-slots.js';
import { createNotifyProcessor, notifyJobOptions } from '../src/queue/notify-processor.js';
import { handoffJobId, JOB, QUEUE, type DownloadJobData, type HandoffJobData, type NotifyJobData } from '../src/queue/queues.js';
import { WorkerManager } from '../src/queue/worker-manager.js';
import { failpoint } from '../src/service/failpoints.js';
import type { Role } from '../src/service/role.js';
import type { ServiceContext } from '../src/service/service-context.js';
import { SweepStore } from '../src/sweep/sweep-store.js';

type DownloadProcessor = ReturnType<typeof createDownloadProcessor>;

export interface DownloaderOptions {
  /** for tests and the demo: stand-ins instead of the real ones */
  resolver?: PackageResolver;
  ascp?: AscpInstallation;
  progressIntervalMs?: number;
}

export async function startDownloader(ctx: ServiceContext, options: DownloaderOptions = {}): Promise<Role> {
  const { config, logger, metrics } = ctx;
  const ascp = options.ascp ?? (await locateAscp(config.downloads));
  const resolver = options.resolver ?? createResolver(config.faspex, logger, { redis: ctx.redis, prefix: config.redis.prefix });
  const manager = new WorkerManager(
    () => ctx.connect('worker'),
    { prefix: config.redis.prefix, lockMs: config.workers.lockMs, backoff: downloadBackoff({ baseMs: config.workers.retryBaseMs, maxMs: config.workers.retryMaxMs }) },
    logger.child({ role: 'downloader' }),
  );

  const sweepStore = new SweepStore(ctx.redis, config.redis.prefix);
  const outcomes: DownloadOutcomeListener = {
    async completed(job: Job<DownloadJobData>, result: DownloadResult, seconds: number) {
      // the manifest is written: a Faspex 5 sweep never queues this package again (src/sweep/)
      if (job.data.kind.startsWith('faspex5')) await sweepStore.markDone(job.data.server, [job.data.packageId]);
      metrics.packagesCompleted.inc();
      if (!result.alreadyComplete) {
        metrics.bytesDownloaded.inc(result.bytesTransferred);
        metrics.downloadDuration.observe(seconds);
      }
      await handOff(ctx, job, result);
      await notify(ctx, job, 'completed', { folder: result.folder, manifest: result.manifest });
    },
    waitingForSpace(_job: Job<DownloadJobData>, cause: 'before_start' | 'disk_full') {
      metrics.diskSpaceWaits.inc({ cause });
    },
    async failed(job: Job<DownloadJobData>, error: IngestError, final: boolean) {
      if (!final) return;
      metrics.packagesFailed.inc({ code: error.code });
      await notify(ctx, job, 'failed', { error: { code: error.code, message: error.message } });
    },
  };

  // a connection that waits out a Redis failover: a slot request must not fail the attempt
  const caps = { slots: new TransferSlots(ctx.connect('worker'), config.redis.prefix, config.workers.lockMs), settings: config.workers.caps };
  // The transfer side (execa, ascp's management port, manifests) loads with the first job, not
  // at start: workers that wait for jobs do not carry it until one comes.
  let processor: Promise<DownloadProcessor> | undefined;
  const loadProcessor = () =>
    (processor ??= import('../src/queue/download-processor.js').then(
      (m) =>
        m.createDownloadProcessor({
          config, logger, resolver, ascp, outcomes, progressIntervalMs: options.progressIntervalMs,
          rename: (id, title, sender) => renameJob(ctx.queues.downloads, id, title, sender),
          caps,
        }),
      (e: unknown) => {
        processor = undefined;
        throw e;
      },
    ));
  manager.register(QUEUE.downloads, async (job: Job<DownloadJobData>, token?: string, signal?: AbortSignal) => (await loadProcessor())(job, token, signal), { concurrency: config.workers.concurrency });
  if (config.workers.onComplete) {
    const command = config.workers.onComplete;
    const handoffs = import('../src/queue/handoff-processor.js').then((m) => m.createHandoffProcessor({ command, downloadDir: config.downloads.dir, downloads: ctx.queues.downloads, logger: logger.child({ role: 'handoff' }) }));
    manager.register(QUEUE.handoffs, async (job: Job<HandoffJobData>, token?: string, signal?: AbortSignal) => (await handoffs)(job, token, signal), { concurrency: config.workers.concurrency });
  }
  if (config.workers.webhookUrl) {
    manager.register(QUEUE.notifications, createNotifyProcessor(config.workers.webhookUrl, logger, { proxy: config.proxy, secret: config.workers.webhookSecret }), { concurrency: 2 });
  }
  logger.info({ ascp: ascp.path, concurrency: config.workers.concurrency, downloadDir: config.downloads.dir }, 'download workers started');

  return {
    name: 'downloader',
    stop: () => manager.close(),
    health: () => (manager.running ? { ok: true } : { ok: false, detail: 'workers are not running' }),
  };
}

/**
 * Queues ON_COMPLETE_COMMAND for a complete package, before its download job completes: a crash
 * in between runs the download job again, which finds the manifest and adds the same job id.
 */
async function handOff(ctx: ServiceContext, job: Job<DownloadJobData>, result: DownloadResult): Promise<void> {
  if (!ctx.config.workers.onComplete || !job.id) return;
  const { handoffJobOptions, recordHandoff } = await import('../src/queue/handoff-processor.js');
  const data: HandoffJobData = { downloadJobId: job.id, folder: result.folder, title: result.manifest.title, sender: result.manifest.sender, inbox: job.data.source.inbox };
  const id = handoffJobId(job.id);
  failpoint('handoff.before-enqueue');
  // a hand-off that exists already (this completion seen twice) keeps its recorded state;
  // 'pending' goes first, so the hand-off worker's 'running' cannot be overwritten by it
  if (!(await ctx.queues.handoffs.getJob(id))) await recordHandoff(ctx.queues.downloads, job.id, { state: 'pending' });
  await ctx.queues.handoffs.add(JOB.handoff, data, { ...handoffJobOptions(ctx.config.workers), jobId: id });
}

async function notify(ctx: ServiceContext, job: Job<DownloadJobData>, outcome: 'completed' | 'failed', body: Record<string, unknown>): Promise<void> {
  if (!ctx.config.workers.webhookUrl || !job.id) return;
  const data: NotifyJobData = {
    downloadJobId: job.id,
    outcome,
    body: { link: maskText(job.data.link), kind: job.data.kind, server: job.data.server, packageId: job.data.packageId, ...body },
  };
  // one notice per package and outcome, even if the completion is seen twice after a crash
  await ctx.queues.notifications.add(JOB.notify, data, { ...notifyJobOptions(ctx.config.workers.keepCompletedSeconds), jobId: `${job.id}-${outcome}` });
}
