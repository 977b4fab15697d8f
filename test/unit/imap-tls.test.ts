import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { certificateProblem, imapTlsOptions, ImapTlsConfigError } from '../../src/mail/imap-tls.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('imapTlsOptions', () => {
  it.each([
    ['nothing set: Node\'s defaults, verified', undefined, {}],
    ['a CA file: the public roots plus it', { caFile: '/ca.pem', insecure: false }, { ca: [...rootCertificates, PEM] }],
    ['the opt-in: no verification', { caFile: undefined, insecure: true }, { rejectUnauthorized: false }],
  ])('%s', (_name, tls, expected) => {
    expect(imapTlsOptions(tls, () => PEM)).toEqual(expected);
  });

  it.each([
    ['an unreadable file', () => { throw Object.assign(new Error('nope'), { code: 'ENOENT' }); }, 'IMAP_CA_FILE /ca.pem cannot be read: ENOENT'],
    ['a file without a certificate', () => 'hello', 'IMAP_CA_FILE /ca.pem holds no PEM certificate (-----BEGIN CERTIFICATE-----)'],
  ])('%s is a clear error', (_name, read, message) => {
    expect(() => imapTlsOptions({ caFile: '/ca.pem', insecure: false }, read)).toThrow(ImapTlsConfigError);
    expect(() => imapTlsOptions({ caFile: '/ca.pem', insecure: false }, read)).toThrow(message);
  });
});

describe('certificateProblem', () => {
  it.each([
    [{ code: 'SELF_SIGNED_CERT_IN_CHAIN' }, /^the IMAP server mail\.example's certificate could not be verified \(SELF_SIGNED_CERT_IN_CHAIN\): .*IMAP_CA_FILE/],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, /\(ERR_TLS_CERT_ALTNAME_INVALID\)/],
    [{ code: 'ECONNREFUSED' }, undefined],
    [new Error('plain'), undefined],
  ])('%o', (err, expected) => {
    const problem = certificateProblem(err, 'mail.example');
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
});
