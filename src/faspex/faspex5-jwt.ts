/**
 * The JWT bearer assertion (RFC 7523) a Faspex 5 API client trades for an access token, signed
 * RS256 with node:crypto. Claims as Faspex 5 expects them (the shape IBM's aspera-cli sends):
 * `iss` and `aud` are the client id, `sub` is `user:<name>`, plus exp/nbf/iat and a unique jti.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseRsaPrivateKey, signRs256Jwt } from '../crypto/jwt-rs256.js';
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

export function jwtAssertion(input: JwtInput): string {
  const now = input.now ?? Math.floor(Date.now() / 1000);
  return signRs256Jwt({
    iss: input.clientId,
    aud: input.clientId,
    sub: `user:${input.user}`,
    iat: now - CLOCK_SKEW_S,
    nbf: now - CLOCK_SKEW_S,
    exp: now + LIFETIME_S,
    jti: input.jti ?? randomUUID(),
  }, input.key);
}

/** Reads the client's PEM private key; errors name FASPEX5_CLIENTS and the file, never its content. */
export function loadPrivateKey(client: Pick<Faspex5ApiClient, 'server' | 'privateKeyFile' | 'privateKeyPassphrase'>, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): KeyObject {
  const where = `the private_key_file of ${client.server} in FASPEX5_CLIENTS (${client.privateKeyFile})`;
  let pem: string;
  try {
    pem = read(client.privateKeyFile);
  } catch (e) {
    throw permanent('CONFIG', `${where} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const parsed = parseRsaPrivateKey(pem, client.privateKeyPassphrase);
  if ('key' in parsed) return parsed.key;
  if (parsed.problem === 'not-a-key') {
    throw permanent('CONFIG', `${where} is not a PEM private key, or its passphrase (private_key_passphrase) is wrong`);
  }
  throw permanent('CONFIG', `${where} is a ${parsed.type ?? 'non-RSA'} key; Faspex 5 JWT needs an RSA key (RS256)`);
}
