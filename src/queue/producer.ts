/**
 * Adds download jobs. Used by the mail listener, `enqueue` and `demo`: all three go through
 * here so ids, options and payload validation are the same whichever way a link arrives.
 */
import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import type { PackageLink } from '../faspex/link.js';
import { initialJobName } from './job-name.js';
import { addToIndex, entryOf, indexClient, indexJobs } from './package-index.js';
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

/** The lease an enqueue must still hold when Redis applies it (src/lease). */
export interface EnqueueFence {
  /** the fencing counter: a new holder INCRs it, which aborts a transaction WATCHing it */
  fenceKey: string;
  leaseKey: string;
  /** the lease value while held */
  holder: string;
  /** what to throw when the lease turns out lost */
  lost: (reason: string) => Error;
}

export interface EnqueueExtra {
  /** the inbox's download folder (relative to DOWNLOAD_DIR), for every job of this call */
  folder?: string | undefined;
  /** the inbox's include / exclude globs, for every job of this call */
  filter?: DownloadJobData['filter'];
  /**
   * Apply the adds only while this lease is held, atomically: WATCH the fencing counter, check
   * the holder, then one MULTI of every add. A listener paused past its lease, whose successor
   * took over meanwhile, then queues nothing. Needs a connection of its own for the queue
   * (WATCH is per connection, and another caller's EXEC on a shared one would clear it).
   */
  fence?: EnqueueFence | undefined;
  /**
   * With a replicated Redis (Sentinel, Cluster): resolve only once this many replicas hold the
   * adds (WAIT). A master that fails over right after acknowledging a write can lose it (its
   * replication is asynchronous); a mail marked handled on such a write would be lost with it.
   * Fewer acknowledgements within the timeout throw, so the mail is read again later.
   */
  replicas?: { count: number; timeoutMs: number } | undefined;
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
  extra: EnqueueExtra = {},
): Promise<EnqueueResult[]> {
  if (items.length === 0) return [];
  const unique = new Map<string, (typeof items)[number]>();
  for (const item of items) {
    const id = downloadJobId(item.link);
    if (!unique.has(id)) unique.set(id, item);
  }
  const ids = [...unique.keys()];
  const jobs = [...unique.entries()].map(([jobId, { link, source }]) => {
    const data = downloadJobData(link, source, new Date(), extra.folder, extra.filter);
    // named for people (the mail subject, masked) until the worker learns the title
    return { name: initialJobName(data), data, opts: { ...options, jobId } };
  });
  const client = await queue.getBackend().client;
  if (extra.fence) {
    const results = await fencedAdd(queue, client, jobs, extra.fence);
    await replicated(queue, client, ids[0]!, extra.replicas);
    return results;
  }
  const pipeline = client.pipeline();
  for (const id of ids) pipeline.runCommand('exists', [queue.toKey(id)]);
  const existed = replies(await pipeline.exec()).map((n) => n === 1);
  // addBulk sends one pipeline of addJob scripts; it throws if any of them failed.
  await queue.addBulk(jobs);
  // The packages page's index (package-index.ts), after the adds: a crash in between leaves a
  // job the sweep indexes later, never an entry without its job. An existing job keeps its own.
  await indexJobs(queue, jobs.filter((_, i) => !existed[i]).map((j) => entryOf(j.opts.jobId, j.data, j.name)));
  await replicated(queue, client, ids[0]!, extra.replicas);
  return ids.map((jobId, i) => ({ jobId, added: !existed[i] }));
}

/**
 * WAIT counts the writes of the connection it is sent on; a pipeline keyed on a job goes to that
 * job's node in a Cluster (the one the adds went to), and is the one connection otherwise.
 */
async function replicated(queue: Queue<DownloadJobData>, client: RedisClient, jobId: string, want: EnqueueExtra['replicas']): Promise<void> {
  if (!want || want.count <= 0) return;
  const p = client.pipeline();
  p.runCommand('exists', [queue.toKey(jobId)]);
  p.runCommand('wait', [want.count, want.timeoutMs]);
  const [, acked] = replies(await p.exec());
  if (Number(acked) < want.count) {
    throw new Error(`Redis stored the jobs but only ${String(acked)} of ${want.count} replica(s) confirmed them within ${want.timeoutMs / 1000} s; not counted as queued, they are queued again on the next try (REDIS_WAIT_REPLICAS)`);
  }
}

type RedisClient = Awaited<ReturnType<Queue['getBackend']>['client']>;
type BulkJob = { name: string; data: DownloadJobData; opts: JobsOptions & { jobId: string } };

async function fencedAdd(queue: Queue<DownloadJobData>, client: RedisClient, jobs: BulkJob[], fence: EnqueueFence): Promise<EnqueueResult[]> {
  await client.runCommand('watch', [fence.fenceKey]);
  let executed = false;
  try {
    const check = client.pipeline();
    check.runCommand('get', [fence.leaseKey]);
    for (const j of jobs) check.runCommand('exists', [queue.toKey(j.opts.jobId)]);
    const [holder, ...exists] = replies(await check.exec());
    if (holder !== fence.holder) throw fence.lost('the lease is no longer this listener\'s; nothing was queued');
    await indexClient(queue);
    const multi = client.multi();
    const backend = queue.getBackend();
    for (const j of jobs) await backend.addJobToTransaction(multi, new Job(queue, j.name, j.data, j.opts, j.opts.jobId).asJSON(), j.opts.jobId);
    // the index in the same transaction: applied with the adds or not at all (an existing job is
    // left as it is: the script adds no arrival or server to an entry that has them)
    addToIndex(queue, multi, jobs.filter((_, i) => exists[i] !== 1).map((j) => entryOf(j.opts.jobId, j.data, j.name)));
    executed = true;
    const results = await multi.exec();
    // null: the fencing counter moved after the WATCH, i.e. another listener won the lease
    if (results === null) throw fence.lost('another listener took the lease while these jobs were being queued; nothing was queued');
    replies(results);
    return jobs.map((j, i) => ({ jobId: j.opts.jobId, added: exists[i] !== 1 }));
  } finally {
    if (!executed) await client.runCommand('unwatch', []).catch(() => undefined);
  }
}

function replies(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('Redis did not answer the pipeline');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
