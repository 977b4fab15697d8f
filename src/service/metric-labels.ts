/**
 * The label values of the service's counters that are known before anything happens: every
 * counter starts at 0 for each of them on every process that serves /metrics (metrics.ts), as
 * Prometheus' instrumentation guidelines ask, so `rate()`, `increase()` and dashboards read 0 on
 * a healthy service rather than "no data". Each list is keyed by the type it covers: a code,
 * outcome or cause added there and not here fails the typecheck.
 */
import type { ErrorCode } from '../errors.js';
import type { MailOutcomeKind } from '../mail/types.js';
import type { DownloadOutcomeListener } from '../queue/download-processor.js';

/** packages_failed_total{code}: every IngestError code (CAPPED never fails a package; kept for completeness) */
const CODES: Record<ErrorCode, true> = {
  CONFIG: true, LINK_INVALID: true, LINK_NOT_DOWNLOAD: true, HOST_NOT_ALLOWED: true, CREDENTIALS_MISSING: true,
  LINK_EXPIRED: true, AUTH_FAILED: true, FORBIDDEN: true, NOT_FOUND: true, PACKAGE_DELETED: true,
  BOX_UNKNOWN: true, BOX_SUBMIT_ONLY: true, REDIRECTED: true, BAD_RESPONSE: true, RESPONSE_TOO_LARGE: true,
  SERVER_ERROR: true, TIMEOUT: true, NETWORK: true, TLS: true, PROXY: true,
  ASCP_NOT_FOUND: true, SSH_KEY_NOT_FOUND: true, TRANSFER_FAILED: true, TRANSFER_BLOCKED: true, TOKEN_REFUSED: true,
  NO_PROGRESS: true, NO_SESSION: true, DISK_FULL: true, CANCELLED: true, CAPPED: true, HANDOFF_FAILED: true,
  PASSPHRASE_MISSING: true, PASSPHRASE_WRONG: true, VERIFY_FAILED: true,
  UNSAFE_PATH: true, NOT_SUPPORTED: true, INTERNAL: true,
};
export const FAILURE_CODES = Object.keys(CODES) as ErrorCode[];

/** mails_failed_total{reason}: the outcomes reported as `mail-failed` (src/mail/settle-chunk.ts SKIPPED_KIND) */
const REASONS: Record<Exclude<MailOutcomeKind, 'queued' | 'no-link'>, true> = { damaged: true, failed: true, refused: true };
export const MAIL_FAILURE_REASONS = Object.keys(REASONS);

type SpaceCause = Parameters<NonNullable<DownloadOutcomeListener['waitingForSpace']>>[1];
/** disk_space_waits_total{cause} */
const CAUSES: Record<SpaceCause, true> = { before_start: true, disk_full: true };
export const DISK_WAIT_CAUSES = Object.keys(CAUSES);
