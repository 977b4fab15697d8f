/**
 * Adds download jobs. Used by the mail listener, `enqueue` and `demo`: all three go through
 * here so ids, options and payload validation are the same whichever way a link arrives.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import type { PackageLink } from '../faspex/link.js';
import { JOB, downloadJobData, downloadJobId, type DownloadJobData } from './queues.js';

export const DOWNLOAD_BACKOFF = 'faspex-backoff';

export function downloadJobOptions(workers: Config['workers']): JobsOptions {
  return {
    attempts: workers.attempts,
    backoff: { type: DOWNLOAD_BACKOFF },
    removeOnComplete: { age: workers.keepCompletedSeconds },
    removeOnFail: { age: workers.keepFailedSeconds },
  };
}

export interface EnqueueResult {
  jobId: string;
  /** false when a job with this id already existed: the package was queued before */
  added: boolean;
}

/**
 * Queues one job per link, atomically per call (one MULTI through addBulk). Resolves only once
 * Redis has acknowledged, so a caller may then mark its mail handled. Links already queued are
 * left alone: BullMQ ignores an add whose job id exists.
 */
export async function enqueueDownloads(
  queue: Queue<DownloadJobData>,
  items: { link: PackageLink; source: DownloadJobData['source'] }[],
  options: JobsOptions,
): Promise<EnqueueResult[]> {
  if (items.length === 0) return [];
  const unique = new Map<string, (typeof items)[number]>();
  for (const item of items) unique.set(downloadJobId(item.link), item);
  const ids = [...unique.keys()];
  const existing = await Promise.all(ids.map((id) => queue.getJob(id)));
  await queue.addBulk(
    [...unique.entries()].map(([jobId, { link, source }]) => ({
      name: JOB.download,
      data: downloadJobData(link, source),
      opts: { ...options, jobId },
    })),
  );
  return ids.map((jobId, i) => ({ jobId, added: !existing[i] }));
}
