/**
 * The JWT bearer assertion (RFC 7523) a Faspex 5 API client trades for an access token, signed
 * RS256 with node:crypto. Claims as Faspex 5 expects them (the shape IBM's aspera-cli sends):
 * `iss` and `aud` are the client id, `sub` is `user:<name>`, plus exp/nbf/iat and a unique jti.
 */
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { permanent } from '../errors.js';
import type { Faspex5ApiClient } from './faspex5-clients.js';

/** Clocks differ; Faspex refuses an assertion "not yet valid", so it is back-dated a little. */
const CLOCK_SKEW_S = 60;
const LIFETIME_S = 600;

export interface JwtInput {
  clientId: string;
  user: string;
  key: KeyObject;
  /** seconds since the epoch; default now */
  now?: number;
  jti?: string;
}

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

export function jwtAssertion(input: JwtInput): string {
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'RS256' };
  const payload = {
    iss: input.clientId,
    aud: input.clientId,
    sub: `user:${input.user}`,
    iat: now - CLOCK_SKEW_S,
    nbf: now - CLOCK_SKEW_S,
    exp: now + LIFETIME_S,
    jti: input.jti ?? randomUUID(),
  };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(signingInput), input.key);
  return `${signingInput}.${b64url(signature)}`;
}

/** Reads the client's PEM private key; errors name FASPEX5_CLIENTS and the file, never its content. */
export function loadPrivateKey(client: Faspex5ApiClient, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): KeyObject {
  const where = `the private_key_file of ${client.server} in FASPEX5_CLIENTS (${client.privateKeyFile})`;
  let pem: string;
  try {
    pem = read(client.privateKeyFile);
  } catch (e) {
    throw permanent('CONFIG', `${where} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(client.privateKeyPassphrase === undefined ? pem : { key: pem, passphrase: client.privateKeyPassphrase });
  } catch {
    throw permanent('CONFIG', `${where} is not a PEM private key, or its passphrase (private_key_passphrase) is wrong`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw permanent('CONFIG', `${where} is a ${key.asymmetricKeyType ?? 'non-RSA'} key; Faspex 5 JWT needs an RSA key (RS256)`);
  }
  return key;
}
