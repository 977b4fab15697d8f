/**
 * What /healthz answers. Redis is the one thing nothing works without, so it alone decides
 * `down` (HTTP 503: take this instance out of rotation, page someone). The mail listener and the
 * workers are optional probes supplied by the process that hosts them; when one of them fails
 * the process still serves and the queue still holds the work, so the report is `degraded`
 * (HTTP 200, with the failing check named in the body).
 */
import type { Queue } from 'bullmq';
import { maskText } from '../log/secrets.js';

export type CheckStatus = 'ok' | 'down' | 'skipped';

export interface CheckResult {
  status: CheckStatus;
  /** plain words, masked; e.g. why it is down, or "2 workers" */
  detail?: string;
  /** how long the probe took */
  ms?: number;
}

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface HealthReport {
  status: HealthStatus;
  /**
   * `listener`: the listener role, its mailboxes (IMAP or Microsoft Graph) and Faspex 5 box sweeps.
   * `imap` is the same result under the name it had before Graph mailboxes and sweeps came
   * (monitors written against it keep working).
   */
  checks: { redis: CheckResult; listener: CheckResult; imap: CheckResult; workers: CheckResult };
}

/**
 * A probe resolves when healthy (optionally with a detail for people) and throws when not.
 * It is given a deadline by the combinator, so it need not bring its own.
 */
export type Probe = () => Promise<string | void>;

export interface HealthCheckOptions {
  redis: Probe;
  /** the listener role: mailboxes and box sweeps */
  listener?: Probe;
  workers?: Probe;
  /** per probe; a probe that has not answered by then counts as down */
  timeoutMs?: number;
}

export function createHealthCheck(options: HealthCheckOptions): () => Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? 2000;
  return async () => {
    const [redis, listener, workers] = await Promise.all([
      runProbe(options.redis, timeoutMs),
      options.listener ? runProbe(options.listener, timeoutMs) : skipped('not run by this process'),
      options.workers ? runProbe(options.workers, timeoutMs) : skipped('not run by this process'),
    ]);
    return { status: overall(redis, [listener, workers]), checks: { redis, listener, imap: listener, workers } };
  };
}

export function httpStatusOf(report: HealthReport): 200 | 503 {
  return report.status === 'down' ? 503 : 200;
}

function overall(essential: CheckResult, optional: CheckResult[]): HealthStatus {
  if (essential.status === 'down') return 'down';
  return optional.some((c) => c.status === 'down') ? 'degraded' : 'ok';
}

async function skipped(detail: string): Promise<CheckResult> {
  return { status: 'skipped', detail };
}

async function runProbe(probe: Probe, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'ok', ...(detail ? { detail: maskText(detail) } : {}), ms: elapsed(started) };
  } catch (e) {
    // Error messages may quote a URL with credentials in it (a REDIS_URL with a password).
    return { status: 'down', detail: maskText(e instanceof Error ? e.message : String(e)), ms: elapsed(started) };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

export interface PingClient {
  ping(): Promise<unknown>;
}

/**
 * PING on an existing connection. A function is accepted because BullMQ hands out its client as
 * a promise that only settles once connected.
 */
export function redisPingProbe(client: PingClient | (() => Promise<PingClient> | PingClient)): Probe {
  return async () => {
    const c = typeof client === 'function' ? await client() : client;
    const answer = await c.ping();
    if (answer !== 'PONG') throw new Error(`unexpected answer to PING: ${String(answer)}`);
  };
}

/** PING through the connection a queue already holds: no extra connection per probe. */
export function queuePingProbe(queue: Queue): Probe {
  return async () => {
    // BullMQ 6 moved the raw client from `queue.client` to its Redis backend, typed as an
    // adapter interface without PING; over ioredis (all this project uses) PING is forwarded.
    const client = (await queue.getBackend().client) as unknown as Partial<PingClient> & { info(): Promise<string> };
    if (typeof client.ping === 'function') return redisPingProbe(client as PingClient)();
    await client.info();
  };
}
