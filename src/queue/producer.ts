/**
 * Adds download jobs. Used by the mail listener, `enqueue` and `demo`: all three go through
 * here so ids, options and payload validation are the same whichever way a link arrives.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import type { PackageLink } from '../faspex/link.js';
import { initialJobName } from './job-name.js';
import { downloadJobData, downloadJobId, type DownloadJobData } from './queues.js';

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
 * Queues one job per distinct link: one EXISTS per job id, pipelined (so `added` costs one round
 * trip, not one per id), then one addBulk. Resolves only once Redis has acknowledged every add,
 * so a caller may then mark its mail handled. Links already queued are left alone: BullMQ
 * ignores an add whose job id exists. When two items share a job id, the first one's source is
 * the one stored (as if they had been added one after another).
 */
export async function enqueueDownloads(
  queue: Queue<DownloadJobData>,
  items: { link: PackageLink; source: DownloadJobData['source'] }[],
  options: JobsOptions,
  /** the inbox's download folder (relative to DOWNLOAD_DIR), for every job of this call */
  folder?: string,
): Promise<EnqueueResult[]> {
  if (items.length === 0) return [];
  const unique = new Map<string, (typeof items)[number]>();
  for (const item of items) {
    const id = downloadJobId(item.link);
    if (!unique.has(id)) unique.set(id, item);
  }
  const ids = [...unique.keys()];
  const client = await queue.getBackend().client;
  const pipeline = client.pipeline();
  for (const id of ids) pipeline.runCommand('exists', [queue.toKey(id)]);
  const exists = await pipeline.exec();
  if (!exists) throw new Error('Redis did not answer the EXISTS pipeline');
  const existed = exists.map(([err, n]) => {
    if (err) throw err;
    return n === 1;
  });
  // addBulk sends one pipeline of addJob scripts; it throws if any of them failed.
  await queue.addBulk(
    [...unique.entries()].map(([jobId, { link, source }]) => {
      const data = downloadJobData(link, source, new Date(), folder);
      // named for people (the mail subject, masked) until the worker learns the title
      return { name: initialJobName(data), data, opts: { ...options, jobId } };
    }),
  );
  return ids.map((jobId, i) => ({ jobId, added: !existed[i] }));
}
