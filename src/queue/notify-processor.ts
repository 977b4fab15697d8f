/**
 * Delivers completion notices to COMPLETION_WEBHOOK_URL: one JSON POST per finished package
 * (its manifest) or finally failed package (its reason). It has its own queue so that a slow or
 * dead webhook never holds a download slot, and a notice survives restarts until delivered.
 *
 * Failure contract: a non-2xx answer, a timeout or a connection error is retried with
 * backoff (NOTIFY_ATTEMPTS); after that the job fails and stays visible on the dashboard.
 * The body never holds a secret: links are masked, manifests hold none.
 */
import type { Job, JobsOptions } from 'bullmq';
import type { Logger } from '../log/logger.js';
import { maskText } from '../log/secrets.js';
import { notifyJobSchema, type NotifyJobData } from './queues.js';

export const NOTIFY_ATTEMPTS = 10;

export function notifyJobOptions(keepSeconds: number): JobsOptions {
  return {
    attempts: NOTIFY_ATTEMPTS,
    backoff: { type: 'exponential', delay: 5000, jitter: 0.5 },
    removeOnComplete: { age: keepSeconds },
    removeOnFail: { age: keepSeconds },
  };
}

export function createNotifyProcessor(webhookUrl: string, logger: Logger, timeoutMs = 10_000) {
  return async (job: Job<NotifyJobData>): Promise<{ status: number }> => {
    const data = notifyJobSchema.parse(job.data);
    const body = JSON.stringify({ event: `package.${data.outcome}`, jobId: data.downloadJobId, ...data.body });
    let response: Response;
    try {
      response = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'faspex-ingest' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
    } catch (e) {
      throw new Error(`webhook ${maskText(new URL(webhookUrl).origin)} unreachable: ${(e as Error).message}`, { cause: e });
    }
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`);
    logger.debug({ jobId: data.downloadJobId, status: response.status }, 'webhook delivered');
    return { status: response.status };
  };
}
