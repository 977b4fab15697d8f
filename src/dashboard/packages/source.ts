/**
 * What the packages page reads from Redis for one query: the rows of its page (index-reader.ts:
 * the cost follows the page size, not how many jobs are kept), the counts per state from
 * BullMQ's own counters, the servers the index knows, and the inboxes' health.
 */
import type { Queue } from 'bullmq';
import type { InboxStatus } from '../../mail/inbox-status.js';
import { indexClient, indexKeys } from '../../queue/package-index.js';
import type { DownloadJobData } from '../../queue/queues.js';
import { readPage } from './index-reader.js';
import { indexNewest, type IndexSweeper } from './index-sweep.js';
import { BULL_STATES, SHOWN_STATES, queryString, type PackageRow, type PageQuery, type ShownState } from './view-model.js';

export interface PackagesView {
  rows: PackageRow[];
  total: number;
  page: number;
  pages: number;
  counts: Record<ShownState, number>;
  servers: string[];
  /** true when a search was broader than the index expands it: some matches may be missing */
  truncated: boolean;
  inboxes: InboxStatus[];
  /** the inboxes could not be read (Redis trouble): say so rather than show none */
  inboxesError: boolean;
}

export interface PackagesSource {
  queue: Queue<DownloadJobData>;
  inboxes: () => Promise<InboxStatus[]>;
  /** a read of the same query this recent is shared (every open page's live feed, the page itself); 0: none */
  cacheMs?: number;
  /** told of every read, so the index is swept while someone looks */
  sweeper?: IndexSweeper;
}

const BULL_STATES_ALL = [...new Set(SHOWN_STATES.flatMap((s) => BULL_STATES[s]))];
/** distinct queries whose reads are kept at once */
const CACHED_QUERIES = 64;

type CachedSource = PackagesSource & { read(query: PageQuery): Promise<PackagesView>; invalidate(): void };

/**
 * Many open pages and live feeds ask the same few queries every interval: one read per query per
 * `cacheMs` is shared by all of them; `invalidate` after a retry or remove, so the page that
 * follows shows it.
 */
export function cachedSource(source: PackagesSource): CachedSource {
  const last = new Map<string, { at: number; view: Promise<PackagesView> }>();
  return {
    ...source,
    read(query) {
      const now = Date.now();
      const key = `${queryString(query)}|${query.perPage}`;
      const hit = last.get(key);
      if (hit && now - hit.at < (source.cacheMs ?? 0)) return hit.view;
      const view = readView(source, query);
      last.delete(key);
      last.set(key, { at: now, view });
      if (last.size > CACHED_QUERIES) last.delete(last.keys().next().value!);
      // a failed read is not kept
      view.catch(() => {
        if (last.get(key)?.view === view) last.delete(key);
      });
      return view;
    },
    invalidate() {
      last.clear();
    },
  };
}

export function loadPackagesView(source: PackagesSource & { read?: (query: PageQuery) => Promise<PackagesView> }, query: PageQuery): Promise<PackagesView> {
  return source.read ? source.read(query) : readView(source, query);
}

async function readView(source: PackagesSource, query: PageQuery): Promise<PackagesView> {
  const { queue } = source;
  source.sweeper?.poke();
  const client = await indexClient(queue);
  const [rawCounts, indexed] = await Promise.all([queue.getJobCounts(...BULL_STATES_ALL), client.runCommand('zcard', [indexKeys(queue).arrival]) as Promise<number>]);
  // fewer entries than jobs: some were added without the index (bull-board, an older version)
  if (Number(indexed) < BULL_STATES_ALL.reduce((n, b) => n + (rawCounts[b] ?? 0), 0)) await indexNewest(queue);
  const [page, servers, inboxes] = await Promise.all([
    readPage(queue, rawCounts, query),
    client.runCommand('smembers', [indexKeys(queue).servers]) as Promise<string[]>,
    source.inboxes().then((list) => ({ list, error: false }), () => ({ list: [] as InboxStatus[], error: true })),
  ]);
  const counts = Object.fromEntries(SHOWN_STATES.map((s) => [s, BULL_STATES[s].reduce((n, b) => n + (rawCounts[b] ?? 0), 0)])) as Record<ShownState, number>;
  return { ...page, counts, servers: [...servers].sort(), inboxes: inboxes.list, inboxesError: inboxes.error };
}
