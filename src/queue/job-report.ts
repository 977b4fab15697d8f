/**
 * Queue counts and recent jobs as `status` prints them (interface.md): pure mapping from
 * BullMQ jobs to report entries, secrets masked.
 */
import type { Job, Queue } from 'bullmq';
import { maskText } from '../log/secrets.js';
import { displayJobName } from './job-name.js';
import type { DownloadJobProgress, DownloadJobResult } from './download-processor.js';
import type { DownloadJobData } from './queues.js';

export const REPORTED_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;
export type ReportedState = (typeof REPORTED_STATES)[number];

export interface JobEntry {
  id: string;
  /** the package for people: its title once resolved, the mail subject until then (masked) */
  name: string;
  state: ReportedState;
  kind: string | null;
  server: string | null;
  package: string | null;
  link: string | null;
  title: string | null;
  attempts: number;
  reason: string | null;
  progress: { bytes: number | null; total: number | null };
  folder: string | null;
  /** what a delayed job waits for (a transfer slot, disk space), when it waits rather than retries */
  waitingFor: string | null;
  /** ON_COMPLETE_COMMAND's state for a complete package, null without one */
  handoff: { state: string; reason: string | null } | null;
}

export type QueueCounts = Record<ReportedState, number>;

export function jobEntry(job: Job<DownloadJobData, DownloadJobResult | undefined>, state: ReportedState): JobEntry {
  const progress = (typeof job.progress === 'object' && job.progress ? job.progress : {}) as Partial<DownloadJobProgress>;
  const result = job.returnvalue ?? undefined;
  return {
    id: job.id ?? '',
    name: displayJobName(job),
    state,
    kind: job.data?.kind ?? null,
    server: job.data?.server ?? null,
    package: job.data?.packageId ?? null,
    link: job.data?.link ? maskText(job.data.link) : null,
    title: result?.title ?? progress.title ?? null,
    attempts: job.attemptsMade,
    reason: state === 'completed' ? handoffReason(progress) : job.failedReason ? maskText(job.failedReason) : null,
    progress: { bytes: progress.bytes ?? null, total: progress.total ?? null },
    folder: result?.folder ?? progress.folder ?? null,
    // a waiting job is briefly active while it looks again: it still waits
    waitingFor: (state === 'delayed' || state === 'active') && progress.phase === 'waiting' && progress.waitingFor ? maskText(progress.waitingFor) : null,
    handoff: state === 'completed' && progress.handoff ? { state: progress.handoff.state, reason: progress.handoff.reason ? maskText(progress.handoff.reason) : null } : null,
  };
}

/** A complete package's only possible failure: its hand-off. */
function handoffReason(progress: Partial<DownloadJobProgress>): string | null {
  const h = progress.handoff;
  if (h?.state !== 'failed') return null;
  return maskText(`downloaded, hand-off failed${h.final === false ? ' (retrying)' : ''}: ${h.reason ?? 'no reason given'}`);
}

export async function queueCounts(queue: Queue): Promise<QueueCounts> {
  const c = await queue.getJobCounts(...REPORTED_STATES, 'prioritized');
  return {
    // prioritized jobs are waiting too, from a person's point of view
    waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
    active: c.active ?? 0,
    delayed: c.delayed ?? 0,
    completed: c.completed ?? 0,
    failed: c.failed ?? 0,
  };
}

/** The most recent jobs across states, newest first. */
export async function recentJobs(queue: Queue<DownloadJobData>, limit: number): Promise<JobEntry[]> {
  const lists = await Promise.all(
    REPORTED_STATES.map(async (state) => {
      const types = state === 'waiting' ? (['waiting', 'prioritized'] as const) : ([state] as const);
      const jobs = (await queue.getJobs([...types], 0, limit - 1, false)) as Job<DownloadJobData, DownloadJobResult | undefined>[];
      return jobs.filter(Boolean).map((job) => ({ job, state }));
    }),
  );
  return lists
    .flat()
    .sort((a, b) => b.job.timestamp - a.job.timestamp)
    .slice(0, limit)
    .map(({ job, state }) => jobEntry(job, state));
}
