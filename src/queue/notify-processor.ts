/**
 * Delivers completion notices to COMPLETION_WEBHOOK_URL: one JSON POST per finished package
 * (its manifest) or finally failed package (its reason). It has its own queue so that a slow or
 * dead webhook never holds a download slot, and a notice survives restarts until delivered.
 *
 * Failure contract: a non-2xx answer, a timeout or a connection error is retried with
 * backoff (NOTIFY_ATTEMPTS); after that the job fails and stays visible on the dashboard.
 * The body never holds a secret: links are masked, manifests hold none. With
 * COMPLETION_WEBHOOK_SECRET, every attempt carries a fresh signature over the exact body bytes
 * (webhook-signature.ts), so a receiver can tell a delivery from a forgery or a replay.
 */
import type { Job, JobsOptions } from 'bullmq';
import { permanent } from '../errors.js';
import { createHttpClient, TEXT_MAX_BYTES } from '../http/client.js';
import type { Peer } from '../http/errors.js';
import type { ProxySettings } from '../http/proxy.js';
import type { Logger } from '../log/logger.js';
import { notifyJobSchema, type NotifyJobData } from './queues.js';
import { SIGNATURE_HEADER, webhookSignature } from './webhook-signature.js';

export const NOTIFY_ATTEMPTS = 10;

export function notifyJobOptions(keepSeconds: number): JobsOptions {
  return {
    attempts: NOTIFY_ATTEMPTS,
    backoff: { type: 'exponential', delay: 5000, jitter: 0.5 },
    removeOnComplete: { age: keepSeconds },
    removeOnFail: { age: keepSeconds },
  };
}

const WEBHOOK_PEER: Peer = {
  name: 'webhook',
  timeoutSetting: 'the webhook deadline',
  tlsAdvice: 'its certificate must chain to a public CA (or one in NODE_EXTRA_CA_CERTS)',
  authAdvice: 'the receiver refused the request; check the credentials in COMPLETION_WEBHOOK_URL',
};

export interface NotifyOptions {
  /** default 10 s */
  timeoutMs?: number;
  /** Config.proxy: the webhook goes through the proxy like every other request */
  proxy?: ProxySettings;
  /** COMPLETION_WEBHOOK_SECRET: signs each POST */
  secret?: string;
  /** the clock the signature's timestamp reads (tests) */
  now?: () => number;
}

export function createNotifyProcessor(webhookUrl: string, logger: Logger, options: NotifyOptions = {}) {
  const target = new URL(webhookUrl);
  // The outbound client's guards (deadline, capped answer, no redirects, proxy); its host
  // policy admits the configured webhook's origin and nothing else.
  const http = createHttpClient({
    policy: (url) => {
      if (url.origin !== target.origin) throw permanent('HOST_NOT_ALLOWED', 'only COMPLETION_WEBHOOK_URL is posted to');
    },
    timeoutMs: options.timeoutMs ?? 10_000,
    logger,
    proxy: options.proxy,
    peer: WEBHOOK_PEER,
    logLabel: 'webhook http',
  });
  return async (job: Job<NotifyJobData>): Promise<{ status: number }> => {
    const data = notifyJobSchema.parse(job.data);
    // signed as sent: the string goes out as UTF-8, the bytes the HMAC reads
    const body = JSON.stringify({ event: `package.${data.outcome}`, jobId: data.downloadJobId, ...data.body });
    const signature: Record<string, string> = options.secret ? { [SIGNATURE_HEADER]: webhookSignature(body, options.secret, (options.now ?? Date.now)() / 1000) } : {};
    // any non-2xx, timeout or connection error throws: BullMQ retries with backoff
    const response = await http.request({
      method: 'POST',
      url: target,
      what: 'the completion notice',
      headers: { 'content-type': 'application/json', 'user-agent': 'faspex-ingest', ...signature },
      body,
      maxBytes: TEXT_MAX_BYTES,
    });
    logger.debug({ jobId: data.downloadJobId, status: response.status }, 'webhook delivered');
    return { status: response.status };
  };
}
