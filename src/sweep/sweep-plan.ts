/**
 * What one sweep of a Faspex 5 box does with what the box lists. Pure.
 *
 *  - Only `completed` packages are queued. `expiring`, `deleting`, `deleted`, failed uploads and
 *    the like are shown (counted by status), never queued: Faspex refuses their download anyway
 *    (faspex5-boxes.md §3, §6), and `expiring` ones were seen completed before.
 *  - A package the done-memory holds (downloaded, manifest written; or remembered by a first
 *    sweep) is not queued again, whatever became of its job.
 *  - The first sweep of a new box remembers what is already there instead of downloading it
 *    (ascli's INIT), unless `backfill` says `all` or a date (packages created since then are
 *    fetched). It remembers only packages in a final state: one still uploading is new when it
 *    completes, and is fetched then.
 *  - Full listings every so often (the own inbox also gets cheap `changed_since_date` ones in
 *    between; shared inboxes and workgroups have no such filter): only a full listing may prune
 *    the done-memory, and the first sweep is always full.
 */
import type { Backfill } from '../faspex/faspex5-box-spec.js';
import type { ListedPackage } from '../faspex/faspex5-list.js';

/** Statuses after which a package does not change on its own into something to download. */
const FINAL = new Set(['completed', 'expiring', 'deleting', 'deleted', 'failed', 'file_processing_failed', 'file_processing_timed_out', 'incorrect_transfer_spec']);

export interface PlanInput {
  listed: readonly ListedPackage[];
  /** the box was swept before (its first sweep happened) */
  initialised: boolean;
  backfill: Backfill;
  /** ids of `listed` the done-memory holds */
  done: ReadonlySet<string>;
}

export interface SweepPlan {
  /** to queue, in listing order */
  queue: ListedPackage[];
  /** ids the first sweep remembers as if done, without downloading them */
  remember: string[];
  /** listed packages that are not downloadable now, counted by status */
  shown: Record<string, number>;
}

export function planSweep({ listed, initialised, backfill, done }: PlanInput): SweepPlan {
  const plan: SweepPlan = { queue: [], remember: [], shown: {} };
  for (const p of listed) {
    const status = p.status ?? 'unknown';
    if (status !== 'completed') plan.shown[status] = (plan.shown[status] ?? 0) + 1;
    if (done.has(p.id)) continue;
    if (!initialised && !backfilled(p, backfill)) {
      if (FINAL.has(status)) plan.remember.push(p.id);
      continue;
    }
    if (status === 'completed') plan.queue.push(p);
  }
  return plan;
}

function backfilled(p: ListedPackage, backfill: Backfill): boolean {
  if (backfill.kind === 'all') return true;
  if (backfill.kind === 'none') return false;
  const created = Date.parse(p.created_time ?? '');
  // a package without a readable creation time is fetched: better once too many than lost
  return Number.isNaN(created) || created >= Date.parse(backfill.since);
}

export interface SweepHistory {
  /** ms since epoch */
  lastFullAt?: number | undefined;
  lastStartedAt?: number | undefined;
}

export type SweepMode = { full: true } | { full: false; changedSince: string };

/** How far back a `changed_since_date` reaches before the last sweep: the server's clock may differ. */
export const CHANGED_SINCE_MARGIN_MS = 10 * 60_000;

/**
 * Full or incremental: full the first time, whenever the endpoint has no changed_since_date, and
 * at least every `fullEveryMs` (default: twelve periods, at least ten minutes).
 */
export function sweepMode(history: SweepHistory, now: number, o: { hasChangedSince: boolean; periodMs: number; fullEveryMs?: number }): SweepMode {
  const every = o.fullEveryMs ?? Math.max(10 * 60_000, 12 * o.periodMs);
  if (!o.hasChangedSince || history.lastFullAt === undefined || history.lastStartedAt === undefined || now - history.lastFullAt >= every) return { full: true };
  return { full: false, changedSince: new Date(history.lastStartedAt - CHANGED_SINCE_MARGIN_MS).toISOString() };
}

/**
 * Which done entries a full listing lets go: those no box of the server shows any more, and
 * written before the oldest of those listings began (a package finished since may be newer than
 * a listing that could not show it yet).
 */
export function prunable(done: ReadonlyMap<string, number>, shown: ReadonlySet<string>, oldestListingAt: number): string[] {
  return [...done].filter(([id, at]) => !shown.has(id) && at < oldestListingAt).map(([id]) => id);
}
