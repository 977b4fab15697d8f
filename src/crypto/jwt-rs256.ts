/**
 * RS256 JSON Web Tokens signed with node:crypto: the one JWT signer of the project. Faspex 5
 * API clients (faspex5-jwt.ts), Entra client assertions and Google service-account grants
 * (src/mail/imap-auth/) only choose their claims and header fields.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** `header` adds fields to {typ: 'JWT', alg: 'RS256'} (e.g. kid, x5t). */
export function signRs256Jwt(payload: Record<string, unknown>, key: KeyObject, header: Record<string, unknown> = {}): string {
  const signingInput = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', ...header }))}.${b64url(JSON.stringify(payload))}`;
  return `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), key))}`;
}

export type RsaKeyProblem = 'not-a-key' | 'not-rsa';

/** A PEM (optionally encrypted) RSA private key, or why not; the PEM never reaches a message. */
export function parseRsaPrivateKey(pem: string, passphrase?: string): { key: KeyObject } | { problem: RsaKeyProblem; type?: string | undefined } {
  let key: KeyObject;
  try {
    key = createPrivateKey(passphrase === undefined ? pem : { key: pem, passphrase });
  } catch {
    return { problem: 'not-a-key' };
  }
  if (key.asymmetricKeyType !== 'rsa') return { problem: 'not-rsa', type: key.asymmetricKeyType };
  return { key };
}
