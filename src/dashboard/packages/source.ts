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
}

export async function loadPackagesView(source: PackagesSource, query: PageQuery): Promise<PackagesView> {
  const { queue } = source;
  const bullStates = [...new Set(SHOWN_STATES.flatMap((s) => BULL_STATES[s]))];
  const [lists, rawCounts, inboxes] = await Promise.all([
    Promise.all(bullStates.map(async (state) => ({ state, jobs: ((await queue.getJobs([state], 0, SCAN_LIMIT - 1, false)) as Job[]).filter(Boolean) }))),
    queue.getJobCounts(...bullStates),
    source.inboxes().then((list) => ({ list, error: false }), () => ({ list: [] as InboxStatus[], error: true })),
  ]);
  const all: PackageRow[] = lists.flatMap(({ state, jobs }) => jobs.map((job) => packageRow(job as unknown as JobLike, state as BullState)));
  const counts = Object.fromEntries(SHOWN_STATES.map((s) => [s, BULL_STATES[s].reduce((n, b) => n + (rawCounts[b] ?? 0), 0)])) as Record<ShownState, number>;
  const servers = [...new Set(all.map((r) => r.server).filter((s): s is string => !!s))].sort();
  const selected = selectRows(all, query);
  return { ...selected, counts, servers, truncated: bullStates.some((b) => (rawCounts[b] ?? 0) > SCAN_LIMIT), inboxes: inboxes.list, inboxesError: inboxes.error };
}
