/**
 * One page of the packages page, read from Redis at a cost that follows the page, not the
 * history: the "all" view and a server's view page over the packages index (src/queue/
 * package-index.ts) by arrival; a state view pages over BullMQ's own list or sorted set of that
 * state; only the rows shown are read (their job hash and state). A search resolves its words
 * through the index's dictionary into one short-lived sorted set of the matches (ordered by
 * arrival, shared by the next page and the live feed for a few seconds), so it finds any kept
 * package, and costs what it matches. A state filter with a server or a search intersects that
 * set with the state's own BullMQ structure.
 *
 * An entry whose job is gone (removed by age, by bull-board) is never shown: the read drops it
 * from the index and reads on.
 */
import { createHash } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import { dropFromIndex, indexClient, indexKeys, indexWords } from '../../queue/package-index.js';
import type { DownloadJobData } from '../../queue/queues.js';
import { BULL_STATES, SHOWN_STATES, packageRow, type BullState, type JobLike, type PackageRow, type PageQuery } from './view-model.js';

/** prefix expansions of one searched word at most; more: the page says to type more of it */
export const MAX_EXPANSIONS = 200;
/** a search's or a filter's set of matches lives this long, shared by the pages that follow */
const RESULT_TTL_MS = 3000;
/** a list state (waiting, downloading) is read this far for a filtered view */
const LIST_CAP = 10_000;

export interface PageRead {
  rows: PackageRow[];
  total: number;
  page: number;
  pages: number;
  /** the search was broader than the index expands: matches may be missing */
  truncated: boolean;
}

type Counts = Partial<Record<BullState, number>>;
type Client = Awaited<ReturnType<typeof indexClient>>;

const LIST_KEY: Partial<Record<BullState, string>> = { waiting: 'wait', active: 'active' };

export async function readPage(queue: Queue<DownloadJobData>, counts: Counts, q: PageQuery): Promise<PageRead> {
  const states = q.show.flatMap((s) => BULL_STATES[s]);
  if (!q.server && !q.search) {
    if (states.length === 0) return byIndex(queue, indexKeys(queue).arrival, SHOWN_STATES.flatMap((s) => BULL_STATES[s]).reduce((n, b) => n + (counts[b] ?? 0), 0), q, false);
    return byStates(queue, states, counts, q);
  }
  const client = await indexClient(queue);
  const found = await matches(queue, client, q);
  if (!found) return { rows: [], total: 0, page: 1, pages: 1, truncated: false };
  const key = states.length ? await inStates(queue, client, found.key, states) : found.key;
  return byIndex(queue, key, Number(await client.runCommand('zcard', [key])), q, found.truncated);
}

function pageOf(total: number, q: PageQuery): { page: number; pages: number; start: number } {
  const pages = Math.max(1, Math.ceil(total / q.perPage));
  const page = Math.min(q.page, pages);
  return { page, pages, start: (page - 1) * q.perPage };
}

/** A page of a sorted set of job ids (by arrival, newest first), its ghosts dropped. */
async function byIndex(queue: Queue<DownloadJobData>, key: string, total: number, q: PageQuery, truncated: boolean): Promise<PageRead> {
  const client = await indexClient(queue);
  const { page, pages, start } = pageOf(total, q);
  for (let round = 0; ; round++) {
    const ids = (await client.runCommand('zrevrange', [key, start, start + q.perPage - 1])) as string[];
    const { rows, gone } = await rowsOf(queue, ids);
    if (gone.length === 0 || round === 3) return { rows, total, page, pages, truncated };
    await dropFromIndex(queue, gone);
    // a result set of the page's own making holds them too
    if (key.startsWith(indexKeys(queue).tmp)) await client.runCommand('zrem', [key, ...gone]);
  }
}

/** A page over BullMQ's own structures of these states, one after the other. */
async function byStates(queue: Queue<DownloadJobData>, states: BullState[], counts: Counts, q: PageQuery): Promise<PageRead> {
  const total = states.reduce((n, s) => n + (counts[s] ?? 0), 0);
  const { page, pages, start } = pageOf(total, q);
  const rows: PackageRow[] = [];
  let skip = start;
  for (const state of states) {
    const n = counts[state] ?? 0;
    if (skip >= n) {
      skip -= n;
      continue;
    }
    const want = q.perPage - rows.length;
    const jobs = ((await queue.getJobs([state], skip, skip + want - 1, false)) as Job[]).filter(Boolean);
    rows.push(...jobs.map((job) => packageRow(job as unknown as JobLike, state)));
    skip = 0;
    if (rows.length >= q.perPage) break;
  }
  return { rows: rows.slice(0, q.perPage), total, page, pages, truncated: false };
}

/** The jobs of these ids with their states, in order; the ids whose jobs are gone. */
async function rowsOf(queue: Queue<DownloadJobData>, ids: string[]): Promise<{ rows: PackageRow[]; gone: string[] }> {
  const read = await Promise.all(ids.map((id) => Promise.all([queue.getJob(id), queue.getJobState(id)] as const)));
  const rows: PackageRow[] = [];
  const gone: string[] = [];
  read.forEach(([job, state], i) => {
    const bull = state === 'waiting-children' ? 'waiting' : state;
    if (!job) gone.push(ids[i]!);
    else if (isBullState(bull)) rows.push(packageRow(job as unknown as JobLike, bull));
  });
  return { rows, gone };
}

function isBullState(s: string): s is BullState {
  return ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'].includes(s);
}

/**
 * The sorted set (by arrival) of the jobs of a server and/or matching a search: the server's own
 * set when there is no search, else a short-lived intersection. undefined: nothing can match.
 */
async function matches(queue: Queue<DownloadJobData>, client: Client, q: PageQuery): Promise<{ key: string; truncated: boolean } | undefined> {
  const k = indexKeys(queue);
  const server = q.server ? k.server + q.server : undefined;
  const words = indexWords(q.search);
  if (words.length === 0) return server ? { key: server, truncated: false } : { key: k.arrival, truncated: false };
  const key = `${k.tmp}q:${digest([q.server ?? '', ...words])}`;
  const flag = `${key}:truncated`;
  const [cached, wasTruncated] = (await Promise.all([client.runCommand('exists', [key]), client.runCommand('exists', [flag])])) as number[];
  if (cached) return { key, truncated: wasTruncated === 1 };

  const inputs: string[] = [k.arrival, ...(server ? [server] : [])];
  const unions: string[] = [];
  let truncated = false;
  for (const word of words) {
    const expanded = (await client.runCommand('zrangebylex', [k.words, `[${word}`, Buffer.concat([Buffer.from(`[${word}`), Buffer.from([0xff])]), 'LIMIT', 0, MAX_EXPANSIONS + 1])) as string[];
    if (expanded.length === 0) return undefined;
    if (expanded.length > MAX_EXPANSIONS) truncated = true;
    const postings = expanded.slice(0, MAX_EXPANSIONS).map((w) => k.word + w);
    if (postings.length === 1) inputs.push(postings[0]!);
    else {
      const union = `${key}:u${unions.length}`;
      unions.push(union);
      await client.runCommand('zunionstore', [union, postings.length, ...postings]);
      inputs.push(union);
    }
  }
  const batch = client.multi();
  // the arrival set gives the order (weight 1); the others only filter (weight 0)
  batch.runCommand('zinterstore', [key, inputs.length, ...inputs, 'WEIGHTS', 1, ...inputs.slice(1).map(() => 0)]);
  batch.runCommand('pexpire', [key, RESULT_TTL_MS]);
  if (truncated) batch.runCommand('set', [flag, '1', 'PX', RESULT_TTL_MS]);
  if (unions.length) batch.runCommand('del', unions);
  await batch.exec();
  return { key, truncated };
}

/** `source` narrowed to the jobs in these BullMQ states: a short-lived sorted set by arrival. */
async function inStates(queue: Queue<DownloadJobData>, client: Client, source: string, states: BullState[]): Promise<string> {
  const key = `${source.startsWith(indexKeys(queue).tmp) ? source : `${indexKeys(queue).tmp}s:${digest([source])}`}:in:${states.join(',')}`;
  if (await client.runCommand('exists', [key])) return key;
  const parts: string[] = [];
  const listed: [number, string][] = [];
  for (const state of states) {
    const list = LIST_KEY[state];
    if (list) {
      const ids = (await client.runCommand('lrange', [queue.toKey(list), 0, LIST_CAP - 1])) as string[];
      if (ids.length === 0) continue;
      const scores = (await client.runCommand('zmscore', [source, ...ids])) as (string | null)[];
      scores.forEach((s, i) => s !== null && listed.push([Number(s), ids[i]!]));
    } else {
      const part = `${key}:${state}`;
      await client.runCommand('zinterstore', [part, 2, source, queue.toKey(state), 'WEIGHTS', 1, 0]);
      parts.push(part);
    }
  }
  const batch = client.multi();
  batch.runCommand('del', [key]);
  if (parts.length) batch.runCommand('zunionstore', [key, parts.length, ...parts]);
  if (listed.length) batch.runCommand('zadd', [key, ...listed.flat()]);
  batch.runCommand('pexpire', [key, RESULT_TTL_MS]);
  if (parts.length) batch.runCommand('del', parts);
  await batch.exec();
  return key;
}

function digest(parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 22);
}
