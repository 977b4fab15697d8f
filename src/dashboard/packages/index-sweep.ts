/**
 * Keeps the packages index (src/queue/package-index.ts) true where no write reached it: drops
 * the entries of jobs BullMQ removed on its own (removeOnComplete/removeOnFail by age, bull-board,
 * `obliterate` of a part), and indexes jobs that have none (added by bull-board or an older
 * version, or a crash between the add and the index write). It walks the index and BullMQ's
 * state structures in chunks, one round trip or two each, so Redis is never blocked for long.
 *
 * Driven by the page's reads (`poke`), not a timer: a cycle starts when someone looks and the
 * last cycle is older than `intervalMs`, and runs in the background; nobody looking, nothing
 * runs. Reads never show a gone job meanwhile: they drop what they meet (index-reader.ts).
 */
import type { Queue } from 'bullmq';
import type { Logger } from '../../log/logger.js';
import { displayJobName } from '../../queue/job-name.js';
import { dropFromIndex, entryOf, indexClient, indexJobs, indexKeys, indexWords } from '../../queue/package-index.js';
import type { DownloadJobData } from '../../queue/queues.js';

const CHUNK = 1000;
const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'waiting-children'] as const;

export interface SweepResult {
  dropped: number;
  indexed: number;
}

/** Indexes the jobs of these ids that have no entry; returns how many. */
async function indexMissing(queue: Queue<DownloadJobData>, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const client = await indexClient(queue);
  const scores = (await client.runCommand('zmscore', [indexKeys(queue).arrival, ...ids])) as (string | null)[];
  const missing = ids.filter((_, i) => scores[i] === null);
  if (missing.length === 0) return 0;
  // only the fields the entry needs, in one pipeline (not a whole job each)
  const p = client.pipeline();
  for (const id of missing) p.runCommand('hmget', [queue.toKey(id), 'name', 'data', 'progress', 'returnvalue', 'timestamp']);
  const entries = ((await p.exec()) ?? []).flatMap(([err, fields], i) => {
    const [name, data, progress, returnvalue, timestamp] = (fields ?? []) as (string | null)[];
    if (err || data === null || data === undefined) return [];
    const job = { name: name ?? undefined, data: parse(data), progress: parse(progress), returnvalue: parse(returnvalue) };
    const entry = entryOf(missing[i]!, (job.data ?? {}) as Partial<DownloadJobData>, job.name, Number(timestamp) || undefined);
    const sender = (job.progress as { sender?: unknown } | undefined)?.sender;
    return [{ ...entry, words: [...new Set([...entry.words, ...indexWords(displayJobName(job), typeof sender === 'string' ? sender : undefined)])] }];
  });
  await indexJobs(queue, entries);
  return entries.length;
}

function parse(json: string | null | undefined): unknown {
  try {
    return json ? (JSON.parse(json) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The newest `n` jobs of every state, indexed if they have no entry: what a page read does when
 * the index holds fewer jobs than BullMQ counts (a job just added by bull-board or an older
 * version shows at once, not after the next sweep). A few round trips, whatever is kept.
 */
export async function indexNewest(queue: Queue<DownloadJobData>, n = 50): Promise<number> {
  const ids = await Promise.all(STATES.map((state) => queue.getRanges([state], 0, n - 1, false)));
  return indexMissing(queue, [...new Set(ids.flat())]);
}

/** One whole pass. */
export async function sweepIndex(queue: Queue<DownloadJobData>, stopped: () => boolean = () => false): Promise<SweepResult> {
  const client = await indexClient(queue);
  const k = indexKeys(queue);
  const result: SweepResult = { dropped: 0, indexed: 0 };
  for (let start = 0; !stopped(); ) {
    const ids = (await client.runCommand('zrange', [k.arrival, start, start + CHUNK - 1])) as string[];
    if (ids.length === 0) break;
    const p = client.pipeline();
    for (const id of ids) p.runCommand('exists', [queue.toKey(id)]);
    const gone = ((await p.exec()) ?? []).flatMap(([err, n], i) => (!err && Number(n) === 0 ? [ids[i]!] : []));
    const dropped = await dropFromIndex(queue, gone);
    result.dropped += dropped;
    start += ids.length - dropped;
  }
  for (const state of STATES) {
    for (let start = 0; !stopped(); start += CHUNK) {
      const ids = await queue.getRanges([state], start, start + CHUNK - 1, true);
      if (ids.length === 0) break;
      result.indexed += await indexMissing(queue, ids);
    }
  }
  return result;
}

export interface IndexSweeper {
  /** a read happened: start a cycle if the last one is old enough */
  poke(): void;
  /** the cycle running now, if any */
  running(): Promise<void>;
  stop(): Promise<void>;
}

export function indexSweeper(queue: Queue<DownloadJobData>, logger: Logger, intervalMs: number): IndexSweeper {
  let lastStart = -Infinity;
  let current: Promise<void> | undefined;
  let stopped = false;
  return {
    poke() {
      if (stopped || current || Date.now() - lastStart < intervalMs) return;
      lastStart = Date.now();
      current = sweepIndex(queue, () => stopped)
        .then((r) => {
          if (r.dropped || r.indexed) logger.info(r, 'packages index swept: entries of gone jobs dropped, jobs without one indexed');
        })
        .catch((err: unknown) => {
          if (!stopped) logger.warn({ err }, 'packages index sweep failed; the next page read tries again later');
        })
        .finally(() => (current = undefined));
    },
    running: () => current ?? Promise.resolve(),
    async stop() {
      stopped = true;
      await current;
    },
  };
}
