/**
 * The CA set and checks of outbound TLS, read when a client is built: a missing or empty CA file
 * is a configuration error at start, not at the first request. No HTTP here (undici is loaded
 * with the first request, client.ts), only the file and Node's root store.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { permanent } from '../errors.js';

export interface TlsSettings {
  /** extra PEM certificates to trust, beside the public roots */
  caFile?: string;
  /** the variable caFile came from, for messages */
  caVariable?: string;
  /** skip certificate checks of the target (never of the proxy) */
  insecure?: boolean;
}

export interface TlsOptions {
  ca?: string[];
  rejectUnauthorized?: boolean;
}

/** The CA set: public roots plus caFile (setting `ca` alone would drop the public roots). */
export function tlsOptions(tls: TlsSettings): TlsOptions {
  const out: TlsOptions = {};
  if (tls.caFile) {
    const name = tls.caVariable ?? 'the CA file';
    let pem: string;
    try {
      pem = readFileSync(tls.caFile, 'utf8');
    } catch (e) {
      throw permanent('CONFIG', `${name} ${tls.caFile} cannot be read: ${(e as Error).message}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw permanent('CONFIG', `${name} ${tls.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    }
    out.ca = [...rootCertificates, pem];
  }
  if (tls.insecure) out.rejectUnauthorized = false;
  return out;
}

