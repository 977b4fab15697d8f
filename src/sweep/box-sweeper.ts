/**
 * Sweeps one Faspex 5 box, by exactly one process at a time across hosts: it holds the box's
 * lease (src/lease/, `<prefix>:sweep:<server> <box>:lease` and its fencing counter), and every
 * sweep's enqueue is fenced by it, so a process paused past its lease queues nothing once another
 * holds the box. SIGKILL of the holder hands the box over within the lease time
 * (LISTENER_LEASE_SECONDS). Others wait as standbys.
 *
 * While it holds the box it sweeps on its timer (`sweep_seconds`, FASPEX5_SWEEP_SECONDS) and at
 * once when a mail asked for it (sweep-store.ts requests, looked at twice a second). A sweep:
 * list (full, or changed_since_date on the own inbox) → plan (sweep-plan.ts) → remember what a
 * first sweep keeps → enqueue (fenced; same job id as a mail's inbox link, so one job) → history,
 * pruning after a full listing → clear the request it served → health. A failed sweep keeps the
 * request, and is tried again after a growing pause (at most the period).
 */
import { hostname } from 'node:os';
import type { Queue, JobsOptions } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { asIngestError } from '../errors.js';
import { boxHasChangedSince, boxLabel, type BoxSpec, type ResolvedBox } from '../faspex/faspex5-box-spec.js';
import type { Faspex5Session } from '../faspex/faspex5-session.js';
import { parsePackageLink } from '../faspex/link.js';
import { LeaseKeeper, type HeldLease } from '../lease/lease-keeper.js';
import { leaseTimings } from '../lease/lease-policy.js';
import { RedisLeaseStore } from '../lease/lease-store.js';
import type { Logger } from '../log/logger.js';
import { enqueueDownloads } from '../queue/producer.js';
import type { DownloadJobData } from '../queue/queues.js';
import { planSweep, sweepMode } from './sweep-plan.js';
import { boxKey, type BoxStatus, type SweepStore } from './sweep-store.js';
import { sleep } from '../abortable-wait.js';

export interface BoxSweeperDeps {
  session: Faspex5Session;
  box: BoxSpec;
  /** every box label of this server (pruning needs all their listings) */
  serverBoxes: string[];
  periodMs: number;
  store: SweepStore;
  /** a connection of its own: the fenced enqueue WATCHes on it */
  queue: Queue<DownloadJobData>;
  jobOptions: JobsOptions;
  redis: Redis | Cluster;
  prefix: string;
  leaseMs: number;
  owner?: string;
  logger: Logger;
  /** packages a timed sweep queued that no mail had announced */
  onMissedByMail?: (server: string, count: number) => void;
  /** how often a held box looks for a mail's request */
  requestPollMs?: number;
}

export class BoxSweeper {
  readonly server: string;
  readonly label: string;
  private readonly stopping = new AbortController();
  private readonly keeper: LeaseKeeper;
  private readonly log: Logger;
  private loopDone: Promise<void> | undefined;
  private resolved: ResolvedBox | undefined;
  private failures = 0;
  /** the last status written, for this process's health */
  last: BoxStatus | undefined;

  constructor(private readonly d: BoxSweeperDeps) {
    this.server = d.session.client.server;
    this.label = boxLabel(d.box);
    this.log = d.logger.child({ server: this.server, box: this.label });
    const owner = d.owner ?? `${hostname()}:${process.pid}`;
    this.keeper = new LeaseKeeper({
      store: new RedisLeaseStore(d.redis, d.prefix, boxKey(this.server, this.label), 'sweep'),
      timings: leaseTimings(d.leaseMs),
      owner,
      onStandby: ({ holder }) => this.log.info({ holder }, 'standby: another process sweeps this box'),
      onLost: (reason) => this.log.warn({ reason }, 'sweep lease lost: this process stops sweeping the box'),
      onError: (err) => this.log.warn({ err: (err as Error).message }, 'sweep lease: Redis did not answer'),
    });
  }

  start(): void {
    this.loopDone ??= this.loop().catch((err: unknown) => this.log.error({ err }, 'box sweeper stopped unexpectedly'));
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const lease = await this.keeper.acquire(this.stopping.signal);
      if (!lease) return;
      this.log.info({ token: lease.token }, 'this process now sweeps the box');
      try {
        await this.hold(lease);
      } finally {
        if (!lease.isLost) await lease.release();
      }
    }
  }

  private async hold(lease: HeldLease): Promise<void> {
    const both = AbortSignal.any([lease.signal, this.stopping.signal]);
    let nextAt = 0;
    while (!both.aborted) {
      const stamp = await this.d.store.pending(boxKey(this.server, this.label)).catch(() => null);
      const due = Date.now() >= nextAt;
      if (stamp === null && !due) {
        await sleep(this.d.requestPollMs ?? 500, both);
        continue;
      }
      const ok = await this.sweep(lease, stamp === null ? 'timer' : 'mail', stamp);
      this.failures = ok ? 0 : this.failures + 1;
      const pause = ok ? this.d.periodMs : Math.min(this.d.periodMs, 1000 * 2 ** Math.min(this.failures, 6));
      nextAt = Date.now() + pause;
      // a request that failed waits out the pause too
      if (!ok) await sleep(pause, both);
    }
  }

  /** One sweep under the lease; false when it failed (the request, if any, stays). */
  async sweep(lease: HeldLease, trigger: 'mail' | 'timer', stamp: string | null): Promise<boolean> {
    const { session, store } = this.d;
    const startedAt = Date.now();
    try {
      this.resolved ??= await session.findBox(this.d.box, lease.signal);
      const box = this.resolved;
      const history = await store.history(this.server, this.label);
      const mode = history.initialised ? sweepMode(history, startedAt, { hasChangedSince: boxHasChangedSince(box), periodMs: this.d.periodMs }) : { full: true as const };
      const listed = await session.listBox(box, mode.full ? {} : { changedSince: mode.changedSince }, lease.signal);
      const done = await store.done(this.server, listed.map((p) => p.id));
      const plan = planSweep({ listed, initialised: history.initialised, backfill: session.client.backfill, done });
      lease.assertHeld();
      await store.markDone(this.server, plan.remember, startedAt);
      const items = plan.queue.map((p) => ({
        link: { ...parsePackageLink(`${session.baseUrl}/inbox/${encodeURIComponent(p.id)}`), box: { kind: box.kind, ...(box.id === undefined ? {} : { id: box.id }) } },
        source: { type: 'sweep' as const, box: this.label, trigger, ...(p.title ? { subject: p.title } : {}), ...(p.sender?.email ?? p.sender?.name ? { from: p.sender?.email ?? p.sender?.name } : {}) },
      }));
      const results = await enqueueDownloads(this.d.queue, items, this.d.jobOptions, {
        fence: { fenceKey: lease.fenceKey, leaseKey: lease.leaseKey, holder: lease.holder, lost: (reason) => lease.lost(reason) },
      });
      const added = results.filter((r) => r.added).length;
      if (trigger === 'timer' && added > 0) this.d.onMissedByMail?.(this.server, added);
      const retried = await this.retryFailed(results.filter((r) => !r.added).map((r) => r.jobId), lease);
      await store.saveHistory(this.server, this.label, { startedAt, full: mode.full });
      if (mode.full) await store.pruneAfterFullListing(this.server, this.label, this.d.serverBoxes, listed.map((p) => p.id), startedAt);
      if (stamp !== null) await store.served(boxKey(this.server, this.label), stamp);
      this.log[added > 0 || retried > 0 || plan.remember.length > 0 ? 'info' : 'debug']({ trigger, full: mode.full, listed: listed.length, queued: added, retried, remembered: plan.remember.length, shown: plan.shown }, 'box swept');
      await this.status({ outcome: 'ok', lastSweepAt: startedAt, seen: listed.length, queued: added, shown: plan.shown, trigger, holder: lease.holder.replace(/^\d+ /, '') });
      return true;
    } catch (e) {
      if (lease.isLost || this.stopping.signal.aborted) return false;
      const err = asIngestError(e);
      this.log.warn({ code: err.code, err: err.message, trigger }, 'box sweep failed; it is tried again');
      await this.status({ outcome: 'failed', lastSweepAt: startedAt, error: err.message, trigger, holder: lease.holder.replace(/^\d+ /, '') });
      return false;
    }
  }

  /**
   * A package the server still lists whose job already exists was queued before but is not done
   * (no manifest, so not in the done-memory): a job that ended failed (attempts spent, ascp killed
   * for good, a refusal since fixed) is tried again, resuming what it left on disk. One waiting,
   * running or delayed is left to BullMQ. Under the lease, so two sweepers never retry one job.
   */
  private async retryFailed(jobIds: string[], lease: HeldLease): Promise<number> {
    let retried = 0;
    for (const id of jobIds) {
      const job = await this.d.queue.getJob(id);
      if (!job || (await job.getState()) !== 'failed') continue;
      lease.assertHeld();
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      retried++;
      this.log.info({ jobId: id, failedReason: job.failedReason }, 'a failed download the server still lists is tried again by the sweep');
    }
    return retried;
  }

  private async status(s: Omit<BoxStatus, 'server' | 'box' | 'user'>): Promise<void> {
    const refused = this.d.session.loginRefused;
    this.last = { server: this.server, box: this.label, user: this.d.session.client.user, ...s, ...(refused ? { loginRefused: refused } : {}) };
    await this.d.store.writeStatus(this.last).catch((err: unknown) => this.log.debug({ err }, 'could not write the box status'));
  }
}

