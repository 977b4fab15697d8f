/**
 * Transfer tokens minted by the Faspex simulator and checked by the fake ascp: bound to one
 * package path, with an expiry, signed with a per-test secret. Like real Faspex tokens they are
 * opaque to the client; a token for another package, an expired one or a forged one is refused
 * (ascp code 34, "token denied by server").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  /** the FASP source path the token authorises, e.g. `/<uuid>.aspera-package/PKG - title` */
  path: string;
  /** expiry, ms since the epoch */
  exp: number;
}

export function mintToken(claims: TokenClaims, secret: string): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `ATV2_sim.${body}.${sign(body, secret)}`;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'wrong-path' };

export function checkToken(token: string, secret: string, path: string, now = Date.now()): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'ATV2_sim') return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(sign(parts[1]!, secret));
  const given = Buffer.from(parts[2]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad-signature' };
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (claims.exp < now) return { ok: false, reason: 'expired' };
  if (normalise(claims.path) !== normalise(path)) return { ok: false, reason: 'wrong-path' };
  return { ok: true, claims };
}

function sign(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

function normalise(p: string): string {
  return p.replace(/\/+$/, '');
}
