// JS twin of src/standins/sim-token.ts `checkToken`, for the fake ascp (which cannot import
// TypeScript and must start fast). Same token format: `ATV2_sim.<base64url JSON claims>.<HMAC>`.
// test/unit/ascp-fake-token.test.ts proves the two agree.
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';

function sign(body, secret) {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

function normalise(p) {
  return p.replace(/\/+$/, '');
}

/** @returns {{ok: true, claims: {path: string, exp: number}} | {ok: false, reason: string}} */
export function checkToken(token, secret, path, now = Date.now()) {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'ATV2_sim') return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(sign(parts[1], secret));
  const given = Buffer.from(parts[2]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad-signature' };
  let claims;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (claims.exp < now) return { ok: false, reason: 'expired' };
  if (normalise(claims.path) !== normalise(path)) return { ok: false, reason: 'wrong-path' };
  return { ok: true, claims };
}
