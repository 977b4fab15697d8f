/**
 * TLS for the IMAP connection, like the Faspex side: the system roots plus IMAP_CA_FILE, or,
 * only when IMAP_INSECURE_TLS=true, no certificate check at all (warned about at start).
 */
import { readFileSync } from 'node:fs';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import type { ImapTls } from '../config/config.js';

export class ImapTlsConfigError extends Error {
  override name = 'ImapTlsConfigError';
}

export const INSECURE_WARNING = 'IMAP_INSECURE_TLS=true: the IMAP server\'s certificate is NOT verified; anyone on the network path can read the mailbox login and the mail';

/** imapflow's `tls` option; reads the CA file once. */
export function imapTlsOptions(tls: ImapTls | undefined, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): ConnectionOptions {
  const options: ConnectionOptions = {};
  if (tls?.caFile) {
    let pem: string;
    try {
      pem = read(tls.caFile);
    } catch (e) {
      throw new ImapTlsConfigError(`IMAP_CA_FILE ${tls.caFile} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ImapTlsConfigError(`IMAP_CA_FILE ${tls.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    // `ca` replaces Node's trust store: keep the public roots so ordinary servers still verify
    options.ca = [...rootCertificates, pem];
  }
  if (tls?.insecure) options.rejectUnauthorized = false;
  return options;
}

/** OpenSSL verification codes as Node reports them on the socket error. */
const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH',
]);

/** What to tell the operator when the IMAP server's certificate is not trusted (pure); else undefined. */
export function certificateProblem(err: unknown, host: string): string | undefined {
  const code = err && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  if (typeof code !== 'string' || !VERIFY_CODES.has(code)) return undefined;
  return `the IMAP server ${host}'s certificate could not be verified (${code}): if it uses a private or company CA, put its certificate (PEM) in a file and set IMAP_CA_FILE to it (IMAP_INSECURE_TLS=true skips the check and is not recommended)`;
}
