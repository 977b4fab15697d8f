/**
 * Runs one hand-off job (queue `handoffs`): ON_COMPLETE_COMMAND for a package that is complete on
 * disk. Its own queue, so that a failing command is retried with its own attempts and backoff and
 * never downloads anything again, and a crash between download and hand-off loses nothing: the
 * download job adds this job (a fixed id per package) before it completes, and a download job
 * that ran again finds its manifest and adds the same id, which adds nothing.
 *
 * Failure contract: the command's failure (exit status, signal, timeout) is HANDOFF_FAILED,
 * retried with backoff up to HANDOFF_ATTEMPTS; each outcome is written into the download job's
 * progress (`handoff`), which the packages page and `status` show as "downloaded, hand-off
 * failed". A folder that is gone, outside DOWNLOAD_DIR or without its manifest fails for good.
 * Shutdown stops the command and puts the job back without spending an attempt.
 */
import { DelayedError, Job, UnrecoverableError, type JobsOptions, type Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import { readManifest } from '../ascp/manifest.js';
import { checkContained } from '../ascp/package-folder.js';
import { asIngestError, permanent } from '../errors.js';
import { runHandoffCommand, type HandoffCommand } from '../handoff/run-handoff-command.js';
import type { Logger } from '../log/logger.js';
import { maskText } from '../log/secrets.js';
import type { DownloadJobProgress } from './download-processor.js';
import { DOWNLOAD_BACKOFF } from './producer.js';
import { handoffJobSchema, type DownloadJobData, type HandoffJobData, type HandoffState } from './queues.js';

export const HANDOFF_ATTEMPTS = 5;

/** The workers' backoff (RETRY_BASE_SECONDS doubling up to RETRY_MAX_SECONDS), its own attempts. */
export function handoffJobOptions(workers: Config['workers']): JobsOptions {
  return {
    attempts: HANDOFF_ATTEMPTS,
    backoff: { type: DOWNLOAD_BACKOFF },
    removeOnComplete: { age: workers.keepCompletedSeconds },
    removeOnFail: { age: workers.keepFailedSeconds },
  };
}

/** Writes the hand-off's state into its download job's progress, keeping the rest of it. */
export async function recordHandoff(downloads: Queue<DownloadJobData>, downloadJobId: string, state: Omit<HandoffState, 'at'>): Promise<void> {
  const job = await Job.fromId<DownloadJobData>(downloads, downloadJobId);
  if (!job) return;
  const progress = (typeof job.progress === 'object' && job.progress ? job.progress : {}) as Partial<DownloadJobProgress>;
  await job.updateProgress({ ...progress, handoff: { ...state, at: Date.now() } });
}

export interface HandoffProcessorDeps {
  command: HandoffCommand;
  downloadDir: string;
  downloads: Queue<DownloadJobData>;
  logger: Logger;
}

export function createHandoffProcessor(deps: HandoffProcessorDeps) {
  return async (job: Job<HandoffJobData>, token?: string, signal?: AbortSignal): Promise<{ lines: number }> => {
    const data = handoffJobSchema.parse(job.data);
    const log = deps.logger.child({ jobId: job.id, downloadJobId: data.downloadJobId });
    const record = (state: Omit<HandoffState, 'at'>) =>
      recordHandoff(deps.downloads, data.downloadJobId, state).catch((err: unknown) => log.debug({ err }, 'could not record the hand-off state'));
    const attempt = job.attemptsMade + 1;
    try {
      // the job is data from Redis: the folder is checked as any path the service writes or hands on
      await checkContained(deps.downloadDir, data.folder).catch((e: unknown) => {
        throw permanent('UNSAFE_PATH', `the package folder of the hand-off is not a package folder inside DOWNLOAD_DIR (${maskText(String((e as Error).message))})`);
      });
      if (!(await readManifest(data.folder))) throw permanent('HANDOFF_FAILED', 'the package folder has no faspex-package.json: it is not complete, so it is not handed off');
      await record({ state: 'running', attempts: attempt });
      await job.log(`attempt ${attempt} of ${job.opts.attempts ?? 1}: running ON_COMPLETE_COMMAND`);
      const result = await runHandoffCommand(deps.command, data, {
        signal,
        onLine: (line) => {
          log.info({ output: line }, 'hand-off output');
          void job.log(line).catch(() => undefined);
        },
      });
      await job.log('hand-off done');
      log.info({ folder: data.folder }, 'hand-off done');
      await record({ state: 'done', attempts: attempt });
      return result;
    } catch (e) {
      const err = asIngestError(e);
      if (err.code === 'CANCELLED' && signal?.aborted && token) {
        await record({ state: 'pending', attempts: attempt - 1 });
        await job.moveToDelayed(Date.now() + 1000, token);
        throw new DelayedError();
      }
      const final = err.retry === 'never' || attempt >= (job.opts.attempts ?? 1);
      await job.log(`failed (${err.code}): ${err.message}${final ? '' : ' — will retry'}`);
      log.warn({ code: err.code, final, reason: err.message }, 'hand-off failed');
      await record({ state: 'failed', reason: `${err.message} [HANDOFF_FAILED]`, final, attempts: attempt });
      if (err.retry === 'never') throw new UnrecoverableError(`${err.message} [${err.code}]`);
      throw err;
    }
  };
}
