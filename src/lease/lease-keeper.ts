/**
 * Wins, holds and gives up one inbox's lease (the imperative shell around lease-policy.ts):
 * `acquire` waits as a standby until this process holds the lease and returns a Fence; the
 * fence renews itself and aborts its signal the moment the lease is lost, whoever notices first
 * (a refused renewal, a renewal that could not be sent in time, or a local check that finds the
 * bound passed after a pause). Work done under the lease asks `fence.assertHeld()` before each
 * write that matters, and the writes in Redis check the holder value atomically as well.
 */
import { performance } from 'node:perf_hooks';
import { afterRenew, holderTick, standbyWaitMs, type LeaseTimings } from './lease-policy.js';
import type { LeaseStore } from './lease-store.js';
import { sleep } from '../abortable-wait.js';

export class LeaseLostError extends Error {
  constructor(readonly reason: string) {
    super(`the listener lease was lost: ${reason}`);
    this.name = 'LeaseLostError';
  }
}

export interface Fence {
  /** the fencing token: grows with every acquisition of this inbox's lease */
  readonly token: number;
  /** the lease key's value while this process holds it ("<token> <owner>") */
  readonly holder: string;
  readonly leaseKey: string;
  /** the fencing counter (INCR by each new holder): WATCH it to make a transaction fenced */
  readonly fenceKey: string;
  /** aborted (with a LeaseLostError) when the lease is lost or given up */
  readonly signal: AbortSignal;
  /** throws LeaseLostError unless the lease is still held by the local bound; no round trip */
  assertHeld(): void;
  /** Redis refused a fenced write: the lease is lost; returns the error to throw */
  lost(reason: string): LeaseLostError;
}

export interface LeaseKeeperOptions {
  store: LeaseStore;
  timings: LeaseTimings;
  /** names this process in the lease value (host:pid), for people looking at Redis */
  owner: string;
  now?: () => number;
  onStandby?: (info: { holder: string; retryInMs: number }) => void;
  onLost?: (reason: string) => void;
  onError?: (err: unknown) => void;
}

export class LeaseKeeper {
  private readonly now: () => number;

  constructor(private readonly o: LeaseKeeperOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  /** Resolves once this process holds the lease, or with undefined when `stop` aborts first. */
  async acquire(stop: AbortSignal): Promise<HeldLease | undefined> {
    let lastHolder: string | undefined;
    while (!stop.aborted) {
      const sentAt = this.now();
      let wait: number;
      try {
        const r = await this.o.store.acquire(this.o.owner, this.o.timings.ttlMs);
        if (r.acquired) return new HeldLease(this.o, this.now, r.token, r.holder, sentAt);
        wait = standbyWaitMs(r.pttl, this.o.timings);
        if (r.holder !== lastHolder) this.o.onStandby?.({ holder: r.holder, retryInMs: wait });
        lastHolder = r.holder;
      } catch (err) {
        this.o.onError?.(err);
        wait = this.o.timings.retryMaxMs;
      }
      await sleep(wait, stop);
    }
    return undefined;
  }
}

export class HeldLease implements Fence {
  readonly leaseKey: string;
  readonly fenceKey: string;
  private readonly controller = new AbortController();
  private validUntil: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: LeaseKeeperOptions,
    private readonly now: () => number,
    readonly token: number,
    readonly holder: string,
    sentAt: number,
  ) {
    this.leaseKey = o.store.leaseKey;
    this.fenceKey = o.store.fenceKey;
    const first = afterRenew({ kind: 'renewed' }, sentAt, now(), Number.POSITIVE_INFINITY, o.timings);
    this.validUntil = first.kind === 'hold' ? first.validUntil : sentAt;
    if (first.kind === 'lost') this.lose(first.reason);
    else this.schedule(first.renewInMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get isLost(): boolean {
    return this.controller.signal.aborted;
  }

  lost(reason: string): LeaseLostError {
    this.lose(reason);
    return this.controller.signal.reason as LeaseLostError;
  }

  assertHeld(): void {
    if (!this.isLost) {
      const step = holderTick(this.now(), this.validUntil);
      if (step.kind === 'lost') this.lose(step.reason);
    }
    if (this.isLost) throw this.controller.signal.reason as LeaseLostError;
  }

  /** Gives the lease up (graceful stop): a standby takes over without waiting for the expiry. */
  async release(): Promise<void> {
    const wasHeld = !this.isLost;
    this.lose('given up', false);
    if (wasHeld) await this.o.store.release(this.holder).catch((err: unknown) => this.o.onError?.(err));
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.isLost) return;
    const step = holderTick(this.now(), this.validUntil);
    if (step.kind === 'lost') return this.lose(step.reason);
    const sentAt = this.now();
    let outcome: Parameters<typeof afterRenew>[0];
    try {
      outcome = (await withDeadline(this.o.store.renew(this.holder, this.o.timings.ttlMs), Math.max(1, this.validUntil - sentAt))) ? { kind: 'renewed' } : { kind: 'refused' };
    } catch (err) {
      outcome = { kind: 'error', message: (err as Error).message };
    }
    if (this.isLost) return;
    const next = afterRenew(outcome, sentAt, this.now(), this.validUntil, this.o.timings);
    if (next.kind === 'lost') return this.lose(next.reason);
    this.validUntil = next.validUntil;
    this.schedule(next.renewInMs);
  }

  private lose(reason: string, report = true): void {
    if (this.isLost) return;
    clearTimeout(this.timer);
    this.controller.abort(new LeaseLostError(reason));
    if (report) this.o.onLost?.(reason);
  }
}

/** A renewal that cannot answer before the bound is as good as refused: do not wait past it. */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from Redis within ${Math.round(ms)} ms`)), ms))),
  ]);
}
