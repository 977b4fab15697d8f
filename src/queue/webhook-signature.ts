/**
 * The completion webhook's signature: `X-Faspex-Ingest-Signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256 of "<t>.<body>">`, over the exact bytes sent, keyed by COMPLETION_WEBHOOK_SECRET.
 * The timestamp is inside the signed text, so a receiver that bounds its age refuses a replay of
 * an old delivery; each attempt signs afresh, so a retry after a long backoff is not stale.
 * Pure. The receiver's side is the example in docs/handoff.md (tested as written).
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-faspex-ingest-signature';

export function webhookSignature(body: string | Buffer, secret: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  const v1 = createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
  return `t=${t},v1=${v1}`;
}
