/**
 * The failure contract shared by the Faspex clients, the ascp runner, the CLI and the workers.
 * Every failure a user can meet is an IngestError with:
 *  - a stable `code` (machine-readable, used in metrics and tests),
 *  - a `retry` decision: 'never' (permanent: retrying cannot help), 'later' (transient: back off
 *    and retry), 'refresh' (the transfer token was refused or expired: re-resolve the link for a
 *    fresh token, then retry),
 *  - a message in plain words that names what to do, with no secret in it.
 */
import { maskText } from './log/secrets.js';

export type RetryDecision = 'never' | 'later' | 'refresh';

export type ErrorCode =
  // links and configuration
  | 'CONFIG'
  | 'LINK_INVALID'
  | 'LINK_NOT_DOWNLOAD'
  | 'HOST_NOT_ALLOWED'
  | 'CREDENTIALS_MISSING'
  // Faspex HTTP
  | 'LINK_EXPIRED'
  | 'AUTH_FAILED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'PACKAGE_DELETED'
  // a Faspex 5 box (FASPEX5_CLIENTS "boxes") that is not the user's, or only submitted to
  | 'BOX_UNKNOWN'
  | 'BOX_SUBMIT_ONLY'
  | 'REDIRECTED'
  | 'BAD_RESPONSE'
  | 'RESPONSE_TOO_LARGE'
  | 'SERVER_ERROR'
  | 'TIMEOUT'
  | 'NETWORK'
  | 'TLS'
  | 'PROXY'
  // ascp
  | 'ASCP_NOT_FOUND'
  | 'SSH_KEY_NOT_FOUND'
  | 'TRANSFER_FAILED'
  | 'TRANSFER_BLOCKED'
  | 'TOKEN_REFUSED'
  | 'NO_PROGRESS'
  | 'NO_SESSION'
  | 'DISK_FULL'
  | 'CANCELLED'
  // after the transfer (issue 22): decryption and proof
  | 'PASSPHRASE_MISSING'
  | 'PASSPHRASE_WRONG'
  | 'VERIFY_FAILED'
  // a transfer cap (src/queue/transfer-caps.ts): the job waits, no attempt spent
  | 'CAPPED'
  // the package is complete; ON_COMPLETE_COMMAND failed (retried on its own, src/handoff/)
  | 'HANDOFF_FAILED'
  // anything else
  | 'UNSAFE_PATH'
  | 'NOT_SUPPORTED'
  | 'INTERNAL';

export class IngestError extends Error {
  readonly code: ErrorCode;
  readonly retry: RetryDecision;
  /** extra machine-readable facts (ascp code, HTTP status); never secrets */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { retry: RetryDecision; cause?: unknown; details?: Record<string, unknown> }) {
    super(maskText(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IngestError';
    this.code = code;
    this.retry = options.retry;
    this.details = options.details ?? {};
  }

  get permanent(): boolean {
    return this.retry === 'never';
  }
}

export const permanent = (code: ErrorCode, message: string, details?: Record<string, unknown>, cause?: unknown) =>
  new IngestError(code, message, { retry: 'never', details, cause });

export const transient = (code: ErrorCode, message: string, details?: Record<string, unknown>, cause?: unknown) =>
  new IngestError(code, message, { retry: 'later', details, cause });

/** Anything thrown, as an IngestError; unknown errors are treated as transient. */
export function asIngestError(err: unknown): IngestError {
  if (err instanceof IngestError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new IngestError('INTERNAL', message, { retry: 'later', cause: err });
}

/**
 * Capped exponential backoff with full jitter in [delay/2, delay]: retries from many workers
 * do not arrive in step, and the expected wait still grows with each attempt.
 * `attempt` is 1 for the first retry.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}
