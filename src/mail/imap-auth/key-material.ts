/**
 * The files an OAuth2 mailbox login is proven with, parsed from their text (pure; the shell
 * reads them): an Entra app's certificate and private key, and a Google service account's JSON
 * key. Messages name the file, never its content.
 */
import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import { parseRsaPrivateKey } from '../../crypto/jwt-rs256.js';

export interface CertificateCredential {
  key: KeyObject;
  /** base64url SHA-256 / SHA-1 of the DER certificate: the JWT header's x5t#S256 / x5t */
  x5tS256: string;
  x5t: string;
}

export interface ServiceAccountKey {
  clientEmail: string;
  key: KeyObject;
  tokenUri: string | undefined;
}

export class KeyMaterialError extends Error {
  override name = 'KeyMaterialError';
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

export function parseCertificateCredential(certPem: string, keyPem: string, files: { certificate: string; key: string }): CertificateCredential {
  const block = PEM_CERT.exec(certPem)?.[0];
  if (!block) throw new KeyMaterialError(`${files.certificate} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(block);
  } catch {
    throw new KeyMaterialError(`${files.certificate}: the certificate cannot be read`);
  }
  const parsed = parseRsaPrivateKey(keyPem);
  if ('problem' in parsed) {
    throw new KeyMaterialError(parsed.problem === 'not-rsa'
      ? `${files.key} holds a ${parsed.type ?? 'non-RSA'} key; Entra client assertions here are RS256 and need an RSA key`
      : `${files.key} holds no unencrypted PEM private key`);
  }
  if (!cert.checkPrivateKey(parsed.key)) throw new KeyMaterialError(`the private key in ${files.key} does not belong to the certificate in ${files.certificate}`);
  return {
    key: parsed.key,
    x5tS256: createHash('sha256').update(cert.raw).digest('base64url'),
    x5t: createHash('sha1').update(cert.raw).digest('base64url'),
  };
}

export function parseServiceAccountKey(json: string, file: string): ServiceAccountKey {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new KeyMaterialError(`${file} is not JSON: expected a Google service account key file (Cloud console → service account → Keys → JSON)`);
  }
  const d = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
  if (d.type !== 'service_account') throw new KeyMaterialError(`${file} is not a service account key (its "type" is ${JSON.stringify(d.type ?? null)}, not "service_account")`);
  if (typeof d.client_email !== 'string' || !d.client_email.includes('@')) throw new KeyMaterialError(`${file} has no client_email`);
  if (typeof d.private_key !== 'string') throw new KeyMaterialError(`${file} has no private_key`);
  const parsed = parseRsaPrivateKey(d.private_key);
  if ('problem' in parsed) throw new KeyMaterialError(`${file}: its private_key is not an RSA private key`);
  return { clientEmail: d.client_email, key: parsed.key, tokenUri: typeof d.token_uri === 'string' ? d.token_uri : undefined };
}
