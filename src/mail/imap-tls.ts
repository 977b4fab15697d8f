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
