import { X509Certificate, createHash, generateKeyPairSync, verify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyMaterialError, parseCertificateCredential, parseServiceAccountKey } from '../../src/mail/imap-auth/key-material.js';
import { refusalMessage, serverRefusal } from '../../src/mail/imap-auth/login-refusal.js';
import {
  CLIENT_ASSERTION_TYPE, JWT_BEARER_GRANT, clientAssertionRequest, clientSecretRequest, isFresh, readTokenAnswer, refreshTokenRequest, serviceAccountRequest,
} from '../../src/mail/imap-auth/token-requests.js';
import { tempDir } from '../support/temp.js';

const dir = tempDir('oauth-unit');
afterAll(() => dir.remove());

/** A self-signed app certificate, as an administrator uploads it to the Entra app registration. */
function appCertificate(): { certPem: string; keyPem: string } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'app.key', '-out', 'app.pem', '-days', '2', '-subj', '/CN=faspex-ingest'], { cwd: dir.path, stdio: 'ignore' });
  return { certPem: readFileSync(join(dir.path, 'app.pem'), 'utf8'), keyPem: readFileSync(join(dir.path, 'app.key'), 'utf8') };
}

function decode(jwt: string) {
  const [h, p, s] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), payload: JSON.parse(Buffer.from(p!, 'base64url').toString()), signed: Buffer.from(`${h}.${p}`), signature: Buffer.from(s!, 'base64url') };
}

describe('token requests', () => {
  const url = 'https://login.microsoftonline.com/t/oauth2/v2.0/token';

  it('client secret: client_credentials with the secret in the form, listed as a secret', () => {
    expect(clientSecretRequest({ tokenUrl: url, clientId: 'app', clientSecret: 's3', scope: 'https://outlook.office365.com/.default' })).toEqual({
      url,
      form: { grant_type: 'client_credentials', client_id: 'app', client_secret: 's3', scope: 'https://outlook.office365.com/.default' },
      secrets: ['s3'],
    });
  });

  it('certificate: an RS256 client assertion with x5t#S256 and x5t, aud = token URL, iss = sub = client id', () => {
    const { certPem, keyPem } = appCertificate();
    const cert = parseCertificateCredential(certPem, keyPem, { certificate: 'app.pem', key: 'app.key' });
    const req = clientAssertionRequest({ tokenUrl: url, clientId: 'app', scope: 's/.default', cert, now: 1_000_000, jti: 'j-1' });
    expect(req.form).toMatchObject({ grant_type: 'client_credentials', client_id: 'app', client_assertion_type: CLIENT_ASSERTION_TYPE, scope: 's/.default' });
    expect(req.form.client_secret).toBeUndefined();
    expect(req.secrets).toEqual([req.form.client_assertion]);
    const jwt = decode(req.form.client_assertion!);
    const der = new X509Certificate(certPem).raw;
    expect(jwt.header).toEqual({ typ: 'JWT', alg: 'RS256', 'x5t#S256': createHash('sha256').update(der).digest('base64url'), x5t: createHash('sha1').update(der).digest('base64url') });
    expect(jwt.payload).toEqual({ aud: url, iss: 'app', sub: 'app', jti: 'j-1', nbf: 999_940, iat: 999_940, exp: 1_000_600 });
    expect(verify('sha256', jwt.signed, new X509Certificate(certPem).publicKey, jwt.signature)).toBe(true);
  });

  it('google service account: jwt-bearer grant, iss = client_email, sub = mailbox, one hour at most', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const account = parseServiceAccountKey(JSON.stringify({ type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }), token_uri: 'https://oauth2.googleapis.com/token' }), 'sa.json');
    expect(account.tokenUri).toBe('https://oauth2.googleapis.com/token');
    const req = serviceAccountRequest({ tokenUrl: 'https://oauth2.googleapis.com/token', account, user: 'in@example.com', scope: 'https://mail.google.com/', now: 2_000_000 });
    expect(Object.keys(req.form)).toEqual(['grant_type', 'assertion']);
    expect(req.form.grant_type).toBe(JWT_BEARER_GRANT);
    const jwt = decode(req.form.assertion!);
    expect(jwt.payload).toEqual({ iss: 'sa@p.iam.gserviceaccount.com', sub: 'in@example.com', scope: 'https://mail.google.com/', aud: 'https://oauth2.googleapis.com/token', iat: 1_999_940, exp: 2_003_540 });
    expect(verify('sha256', jwt.signed, publicKey, jwt.signature)).toBe(true);
  });

  it.each([
    [{ clientSecret: undefined, scope: undefined }, { grant_type: 'refresh_token', client_id: 'c', refresh_token: 'rt' }],
    [{ clientSecret: 'cs', scope: 'offline_access x' }, { grant_type: 'refresh_token', client_id: 'c', refresh_token: 'rt', client_secret: 'cs', scope: 'offline_access x' }],
  ])('refresh token %o', (more, form) => {
    const req = refreshTokenRequest({ tokenUrl: 'https://idp/t', clientId: 'c', refreshToken: 'rt', ...more });
    expect(req.form).toEqual(form);
    expect(req.secrets).toContain('rt');
  });
});

describe('readTokenAnswer', () => {
  const now = 1_000_000;
  it.each([
    ['Entra success', 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: 'eyJ0' }, { ok: true, token: { accessToken: 'eyJ0', expiresAt: now + 3_599_000, refreshToken: undefined } }],
    ['a rotated refresh token', 200, { access_token: 'a', expires_in: '60', refresh_token: 'rt-2' }, { ok: true, token: { accessToken: 'a', expiresAt: now + 60_000, refreshToken: 'rt-2' } }],
    ['no expires_in: an hour', 200, { access_token: 'a' }, { ok: true, token: { expiresAt: now + 3_600_000 } }],
    ['Entra invalid_client (401)', 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x' }, { ok: false, refused: true, error: 'invalid_client', reason: 'invalid_client: AADSTS7000215: Invalid client secret provided. Trace ID: x' }],
    ['Google invalid_grant (400)', 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }, { ok: false, refused: true, reason: 'invalid_grant: Token has been expired or revoked.' }],
    ['an error without description', 400, { error: 'unauthorized_client' }, { ok: false, refused: true, reason: 'unauthorized_client' }],
    ['a 200 without a token', 200, { token_type: 'Bearer' }, { ok: false, refused: false, reason: 'the token endpoint idp answered HTTP 200 without an access_token' }],
    ['a MAC token', 200, { access_token: 'a', token_type: 'mac' }, { ok: false, refused: false, reason: 'the token endpoint idp issued a mac token; IMAP needs a Bearer token' }],
    ['a proxy error page', 502, '<html>bad gateway</html>', { ok: false, refused: false, reason: 'the token endpoint idp answered HTTP 502' }],
    ['a 503 with an OAuth-looking body', 503, { error: 'temporarily_unavailable' }, { ok: false, refused: false, reason: 'the token endpoint idp answered HTTP 503 (temporarily_unavailable)' }],
  ])('%s', (_name, status, body, expected) => {
    expect(readTokenAnswer(status, typeof body === 'string' ? body : JSON.stringify(body), now, 'idp')).toMatchObject(expected);
  });
});

describe('isFresh', () => {
  it.each([
    ['an hour left of an hour', 3_600_000, 3_600_000, true],
    ['6 minutes left: outside the 5-minute margin', 360_000, 3_600_000, true],
    ['4 minutes left: renew', 240_000, 3_600_000, false],
    ['expired', -1, 3_600_000, false],
    ['a 2-minute token with 1 minute left: the margin is a quarter of its life', 60_000, 120_000, true],
    ['a 2-minute token with 20 s left', 20_000, 120_000, false],
  ])('%s', (_name, leftMs, lifetimeMs, fresh) => {
    expect(isFresh({ expiresAt: 10_000_000 + leftMs }, 10_000_000, lifetimeMs)).toBe(fresh);
  });
});

describe('key material', () => {
  it.each([
    ['no certificate', () => parseCertificateCredential('junk', 'junk', { certificate: 'c.pem', key: 'k.pem' }), 'c.pem holds no PEM certificate (-----BEGIN CERTIFICATE-----)'],
    ['a key of another certificate', () => {
      const a = appCertificate();
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      return parseCertificateCredential(a.certPem, other, { certificate: 'c.pem', key: 'k.pem' });
    }, 'the private key in k.pem does not belong to the certificate in c.pem'],
    ['a user OAuth client file instead of a service account', () => parseServiceAccountKey('{"installed":{"client_id":"x"}}', 'sa.json'), 'sa.json is not a service account key (its "type" is null, not "service_account")'],
    ['not JSON', () => parseServiceAccountKey('-----BEGIN', 'sa.json'), /^sa\.json is not JSON/],
  ])('%s', (_name, parse, message) => {
    expect(parse).toThrow(KeyMaterialError);
    expect(parse).toThrow(message);
  });
});

describe('serverRefusal', () => {
  it.each([
    ['Dovecot refusing an OAuth token', { authenticationFailed: true, response: '2 NO [AUTHENTICATIONFAILED] Authentication failed.', serverResponseCode: 'AUTHENTICATIONFAILED', oauthError: { status: 'invalid_token' } },
      '[AUTHENTICATIONFAILED] Authentication failed. (invalid_token)'],
    ['Exchange: authenticated but not connected', { authenticationFailed: true, message: 'Authentication failed', response: 'User is authenticated but not connected.' }, 'User is authenticated but not connected.'],
    ['a bare failure', { authenticationFailed: true, message: 'Authentication failed' }, 'Authentication failed'],
    ['a network error is not a refusal', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), undefined],
  ])('%s', (_name, err, reason) => {
    expect(serverRefusal(err)).toBe(reason);
  });

  it('is worded one way everywhere', () => {
    expect(refusalMessage('invalid_client: AADSTS7000222')).toBe('mailbox login refused: invalid_client: AADSTS7000222');
  });
});
