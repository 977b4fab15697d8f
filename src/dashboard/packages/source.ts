/**
 * What the packages page reads from Redis: the newest jobs of each state (capped, so a huge
 * completed history cannot make a page load slow), their counts, and the inboxes' health.
 * The filtering and paging happen in the view model, over rows already masked.
 */
import type { Job, Queue } from 'bullmq';
import type { InboxStatus } from '../../mail/inbox-status.js';
import type { DownloadJobData } from '../../queue/queues.js';
import { BULL_STATES, SHOWN_STATES, packageRow, selectRows, type BullState, type JobLike, type PackageRow, type PageQuery, type ShownState } from './view-model.js';

/** Jobs read per BullMQ state at most; the page says when it shows only the newest. */
export const SCAN_LIMIT = 1000;

export interface PackagesView {
  rows: PackageRow[];
  total: number;
  page: number;
  pages: number;
  counts: Record<ShownState, number>;
  servers: string[];
  /** true when some state holds more jobs than were read */
  truncated: boolean;
  inboxes: InboxStatus[];
  /** the inboxes could not be read (Redis trouble): say so rather than show none */
  inboxesError: boolean;
}

export interface PackagesSource {
  queue: Queue<DownloadJobData>;
  inboxes: () => Promise<InboxStatus[]>;
  /** a read this recent is shared (every open page's live feed, the page itself); 0: none */
  cacheMs?: number;
}

type Snapshot = Omit<PackagesView, 'rows' | 'total' | 'page' | 'pages'> & { all: PackageRow[] };
const BULL_STATES_ALL = [...new Set(SHOWN_STATES.flatMap((s) => BULL_STATES[s]))];

/**
 * Reading every state's jobs is the page's whole cost (bench/packages-page.ts): with many pages
 * open, each live feed would repeat it every interval. One read per `cacheMs` is shared by all
 * of them; `invalidate` after a retry or remove, so the page that follows shows it.
 */
export function cachedSource(source: PackagesSource): PackagesSource & { read(): Promise<Snapshot>; invalidate(): void } {
  let last: { at: number; snapshot: Promise<Snapshot> } | undefined;
  return {
    ...source,
    read() {
      const now = Date.now();
      if (!last || now - last.at >= (source.cacheMs ?? 0)) {
        const snapshot = readSnapshot(source);
        last = { at: now, snapshot };
        // a failed read is not kept
        snapshot.catch(() => {
          if (last?.snapshot === snapshot) last = undefined;
        });
      }
      return last.snapshot;
    },
    invalidate() {
      last = undefined;
    },
  };
}

export async function loadPackagesView(source: PackagesSource & { read?: () => Promise<Snapshot> }, query: PageQuery): Promise<PackagesView> {
  const { all, ...rest } = await (source.read ? source.read() : readSnapshot(source));
  return { ...selectRows(all, query), ...rest };
}

async function readSnapshot(source: PackagesSource): Promise<Snapshot> {
  const { queue } = source;
  const bullStates = BULL_STATES_ALL;
  const [lists, rawCounts, inboxes] = await Promise.all([
    Promise.all(bullStates.map(async (state) => ({ state, jobs: ((await queue.getJobs([state], 0, SCAN_LIMIT - 1, false)) as Job[]).filter(Boolean) }))),
    queue.getJobCounts(...bullStates),
    source.inboxes().then((list) => ({ list, error: false }), () => ({ list: [] as InboxStatus[], error: true })),
  ]);
  const all: PackageRow[] = lists.flatMap(({ state, jobs }) => jobs.map((job) => packageRow(job as unknown as JobLike, state as BullState)));
  const counts = Object.fromEntries(SHOWN_STATES.map((s) => [s, BULL_STATES[s].reduce((n, b) => n + (rawCounts[b] ?? 0), 0)])) as Record<ShownState, number>;
  const servers = [...new Set(all.map((r) => r.server).filter((s): s is string => !!s))].sort();
  return { all, counts, servers, truncated: bullStates.some((b) => (rawCounts[b] ?? 0) > SCAN_LIMIT), inboxes: inboxes.list, inboxesError: inboxes.error };
}
