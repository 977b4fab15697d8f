/**
 * Prometheus instruments for one process. A Registry of its own rather than prom-client's global
 * one, so that tests (and `run`, which hosts several roles) can create as many as they need
 * without "metric already registered" collisions.
 *
 * The listener and the workers call the counters from their events; queue sizes are read from
 * Redis at scrape time, so every process that serves /metrics reports the same, current numbers
 * whoever changed them.
 */
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DISK_WAIT_CAUSES, FAILURE_CODES, MAIL_FAILURE_REASONS } from './metric-labels.js';
import { registerStateGauges, withTimeout, type StateSources } from './metrics-state.js';

export const METRIC_PREFIX = 'faspex_ingest_';

/** The states people alert on; `waiting-children` and `paused` do not occur in these queues. */
export const JOB_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** A notification is normally queued within seconds; minutes mean the listener lags or was down. */
const LATENCY_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600];

/** Transfers last from seconds (a small package) to many hours (terabytes over a thin line). */
const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 2 * 3600, 4 * 3600, 12 * 3600, 24 * 3600];

export interface MetricsOptions {
  /** process CPU, memory, event-loop lag, GC; on by default */
  defaultMetrics?: boolean;
  /** a scrape must not hang on an unreachable Redis: counts that take longer are left out */
  jobCountsTimeoutMs?: number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly mailsRead: Counter;
  readonly linksFound: Counter;
  readonly mailsFailed: Counter<'reason'>;
  readonly packagesCompleted: Counter;
  readonly packagesFailed: Counter<'code'>;
  /** a package found no room: before it started, or ascp's disk full during the transfer */
  readonly diskSpaceWaits: Counter<'cause'>;
  readonly bytesDownloaded: Counter;
  /** packages a timed Faspex 5 sweep found that no mail had announced by then (src/sweep/) */
  readonly packagesMissedByMail: Counter<'server'>;
  readonly downloadDuration: Histogram;
  /** from the server's INTERNALDATE of a mail to its jobs being in Redis */
  readonly mailQueueLatency: Histogram;
  /** report these queues' job counts on every scrape; returns a function that stops it */
  watchQueues(queues: readonly Queue[]): () => void;
  /** report inbox health (from Redis) and DOWNLOAD_DIR's free space on every scrape */
  watchState(sources: StateSources): void;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  // Unprefixed on purpose: the standard `process_*` / `nodejs_*` names are what ready-made
  // Node.js dashboards expect.
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const name = (n: string) => `${METRIC_PREFIX}${n}`;

  const watched = new Set<Queue>();
  const timeoutMs = options.jobCountsTimeoutMs ?? 2000;

  new Gauge({
    name: name('jobs'),
    help: 'Jobs per queue and state, read from Redis at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      // Series of a queue whose counts could not be read disappear rather than freeze at a
      // stale value: `absent()` alerts then fire, and nothing pretends the queue is empty.
      this.reset();
      const results = await Promise.allSettled([...watched].map(async (queue) => ({ queue: queue.name, counts: await withTimeout(queue.getJobCounts(...JOB_STATES), timeoutMs) })));
      for (const result of results) {
        if (result.status !== 'fulfilled') continue;
        for (const state of JOB_STATES) this.set({ queue: result.value.queue, state }, result.value.counts[state] ?? 0);
      }
    },
  });

  const stateGauges = registerStateGauges(registers, name, timeoutMs);

  return {
    registry,
    mailsRead: new Counter({ name: name('mails_read_total'), help: 'Mails read from the watched mailbox', registers }),
    linksFound: new Counter({ name: name('links_found_total'), help: 'Faspex package links found in mails', registers }),
    mailsFailed: fromZero(new Counter({ name: name('mails_failed_total'), help: 'Mails that could not be handled, by reason', labelNames: ['reason'] as const, registers }), 'reason', MAIL_FAILURE_REASONS),
    packagesCompleted: new Counter({ name: name('packages_completed_total'), help: 'Packages downloaded completely', registers }),
    packagesFailed: fromZero(new Counter({ name: name('packages_failed_total'), help: 'Packages failed for good, by error code', labelNames: ['code'] as const, registers }), 'code', FAILURE_CODES),
    diskSpaceWaits: fromZero(
      new Counter({
        name: name('disk_space_waits_total'),
        help: 'Times a package waited for disk space (each look that found too little), by cause: before_start (it would not fit) or disk_full (ascp error 25 during the transfer)',
        labelNames: ['cause'] as const,
        registers,
      }),
      'cause',
      DISK_WAIT_CAUSES,
    ),
    bytesDownloaded: new Counter({ name: name('bytes_downloaded_total'), help: 'Bytes written by ascp into DOWNLOAD_DIR', registers }),
    packagesMissedByMail: new Counter({ name: name('packages_missed_by_mail_total'), help: 'Packages a timed Faspex 5 sweep found that no mail had announced by then (the mail path is leaking)', labelNames: ['server'] as const, registers }),
    downloadDuration: new Histogram({ name: name('download_duration_seconds'), help: 'Time from the start of a download attempt to a complete package', buckets: DURATION_BUCKETS, registers }),
    mailQueueLatency: new Histogram({ name: name('mail_queue_latency_seconds'), help: 'Time from a mail reaching the server (INTERNALDATE) to its jobs being in Redis', buckets: LATENCY_BUCKETS, registers }),
    watchState: (sources) => stateGauges.watch(sources),
    watchQueues(queues) {
      const added = queues.filter((q) => !watched.has(q));
      for (const q of added) watched.add(q);
      return () => {
        for (const q of added) watched.delete(q);
      };
    },
  };
}

/**
 * A labelled counter with a series at 0 for each known value (metric-labels.ts): absent until the
 * first increment, it would read as "no data" on a healthy service, and `increase()` would miss
 * that first increment.
 */
function fromZero<L extends string>(counter: Counter<L>, label: L, values: readonly string[]): Counter<L> {
  for (const value of values) counter.inc({ [label]: value } as Partial<Record<L, string>>, 0);
  return counter;
}
