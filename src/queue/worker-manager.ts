/**
 * The one place that builds BullMQ Workers and applies the policy every worker shares:
 * connection, key prefix, locks sized for hours-long transfers, stall recovery, the backoff
 * strategy, error logging, and an orderly close. Processors stay plain functions.
 */
import { Worker, type Job, type Processor, type WorkerOptions } from 'bullmq';
import type { RedisClient } from './connection.js';
import type { Logger } from '../log/logger.js';
import { maskText } from '../log/secrets.js';
import type { QueueName } from './queues.js';

export interface WorkerPolicy {
  prefix: string;
  /** lock on an active job, renewed at half this interval while the processor runs */
  lockMs: number;
  backoff: (attemptsMade: number) => number;
}

export class WorkerManager {
  private readonly workers: Worker[] = [];
  /** instances we pass to BullMQ are ours to close: it only closes connections it created */
  private readonly connections: RedisClient[] = [];

  constructor(
    private readonly connect: () => RedisClient,
    private readonly policy: WorkerPolicy,
    private readonly logger: Logger,
  ) {}

  register<D, R>(queue: QueueName, processor: Processor<D, R>, options: { concurrency: number } & Partial<WorkerOptions>): Worker<D, R> {
    const log = this.logger.child({ queue });
    const connection = this.connect();
    this.connections.push(connection);
    const worker = new Worker<D, R>(queue, processor, {
      connection,
      prefix: this.policy.prefix,
      lockDuration: this.policy.lockMs,
      // A job whose worker died is noticed within one stalled interval after its lock expires;
      // it is moved back to wait and resumes from the partial files on the next worker.
      stalledInterval: Math.min(30_000, this.policy.lockMs),
      maxStalledCount: 5,
      settings: { backoffStrategy: this.policy.backoff },
      ...options,
    });
    worker.on('error', (err) => log.error({ err }, 'worker error'));
    worker.on('failed', (job: Job<D, R> | undefined, err: Error) =>
      log.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, code: (err as { code?: unknown }).code, reason: maskText(err.message) }, 'job attempt failed'),
    );
    worker.on('stalled', (jobId: string) => log.warn({ jobId }, 'job stalled: its worker stopped renewing the lock; it will run again'));
    worker.on('lockRenewalFailed', (jobIds: string[]) => log.warn({ jobIds }, 'lock renewal failed'));
    this.workers.push(worker as unknown as Worker);
    return worker;
  }

  get running(): boolean {
    return this.workers.length > 0 && this.workers.every((w) => w.isRunning());
  }

  /**
   * Stops taking jobs and stops running transfers so they resume later: each processor sees
   * its AbortSignal fire and puts its job back without spending an attempt.
   */
  async close(): Promise<void> {
    for (const w of this.workers) w.cancelAllJobs('shutdown');
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
  }

  /** Immediate exit path: do not wait for anything; locks expire and others take the jobs. */
  async closeNow(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close(true)));
    for (const c of this.connections) c.disconnect();
  }
}
