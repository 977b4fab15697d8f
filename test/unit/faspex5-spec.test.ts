/**
 * Faspex 5, pure parts: the transfer spec and package answers mapped and validated, the
 * recipient a download is for, the OAuth pieces, and the JWT.
 */
import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildAscpCommand } from '../../src/fasp/ascp-command.js';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { checkedRedirectUri, faspexVersion, jwtTokenForm, publicBaseUrl, readAccessToken, readAuthorizeLocation } from '../../src/faspex/faspex5-auth.js';
import { jwtAssertion, loadPrivateKey } from '../../src/faspex/faspex5-jwt.js';
import { readPackageInfo, recipientQuery, toResolvedPackage, toTransferSpec } from '../../src/faspex/faspex5-package.js';
import type { PackageLink } from '../../src/faspex/link.js';
import { maskText } from '../../src/log/secrets.js';

const SPEC = {
  authentication: 'token', cipher: 'aes128', cookie: 'ck-12345', direction: 'receive', download_name: 'T', fasp_port: 33001, ssh_port: 33001,
  remote_host: 'xfer.example.com', remote_user: 'xfer', http_fallback: false, lock_min_rate: true, lock_rate_policy: true, min_rate_kbps: 0,
  multi_session: 0, rate_policy: 'fair', rate_policy_allowed: 'fair', target_rate_kbps: 100000, zip_required: false,
  tags: { aspera: { faspex: { package_id: '7' } } }, token: 'ATV2_token-abcdef', source_root: '/pkgs/7', paths: [{ source: 'PKG - T' }],
};

describe('transfer spec', () => {
  it('keeps what ascp needs, drops Connect-only fields, normalises the cipher, registers secrets', () => {
    const spec = toTransferSpec(SPEC, 'f5');
    expect(spec).toEqual({
      direction: 'receive', remote_host: 'xfer.example.com', remote_user: 'xfer', ssh_port: 33001, fasp_port: 33001, token: 'ATV2_token-abcdef',
      cookie: 'ck-12345', cipher: 'aes-128', rate_policy: 'fair', target_rate_kbps: 100000, min_rate_kbps: 0, lock_rate_policy: true,
      lock_min_rate: true, http_fallback: false, tags: SPEC.tags, source_root: '/pkgs/7', paths: [{ source: 'PKG - T' }],
    });
    expect(maskText('ATV2_token-abcdef ck-12345')).toBe('*** ***');
  });

  it('source_root reaches ascp as --source-prefix64 with the relative source', () => {
    const { args, env } = buildAscpCommand(toTransferSpec(SPEC, 'f5'), { destination: '/dl/x' });
    expect(args.slice(args.indexOf('--source-prefix64'), args.indexOf('--source-prefix64') + 2)).toEqual(['--source-prefix64', Buffer.from('/pkgs/7').toString('base64')]);
    expect(args.slice(-2)).toEqual(['PKG - T', '/dl/x']);
    expect(env.ASPERA_SCP_TOKEN).toBe('ATV2_token-abcdef');
    expect(args.join(' ')).not.toContain('ATV2_token');
  });

  it.each([
    ['no token', { ...SPEC, token: undefined }, /token/],
    ['an upload', { ...SPEC, direction: 'send' }, /direction/],
    ['no paths', { ...SPEC, paths: [] }, /paths/],
    ['a bad port', { ...SPEC, ssh_port: 70000 }, /ssh_port/],
    ['an unknown cipher', { ...SPEC, cipher: 'rot13' }, /cipher/],
    ['extra fields in a path', { ...SPEC, paths: [{ source: 'a', overwrite: 'always' }] }, /paths/],
    ['not an object', 'nope', /answer/],
  ])('refuses a spec with %s: BAD_RESPONSE naming the field', (_n, json, field) => {
    let caught: unknown;
    try {
      toTransferSpec(json, 'f5.example');
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'BAD_RESPONSE', retry: 'never' });
    expect((caught as Error).message).toMatch(field);
  });
});

describe('package description and recipient', () => {
  const info = readPackageInfo({
    id: 7, title: 'T', note: 'n', total_bytes: 10, total_files: 2, sender: { name: 'jane', email: 'jane@example.com' }, metadata: { Project: 'A', n: 3, o: {} },
    recipients: [{ id: '900', name: 'Team', recipient_type: 'workgroup' }, { id: '101', name: 'alice', email: 'alice@example.com', recipient_type: 'user' }],
    unknown_field: true,
  }, 'f5');

  it('first recipient by default (as ascli), the configured user for inbox links', () => {
    expect(recipientQuery(info)).toEqual({ recipient_workgroup_id: '900' });
    expect(recipientQuery(info, 'Alice@Example.com')).toEqual({ recipient_user_id: '101' });
    expect(recipientQuery(readPackageInfo({ recipients: [{ id: '5', recipient_type: 'external_user' }] }, 'f5'))).toEqual({});
    expect(recipientQuery(readPackageInfo({}, 'f5'))).toEqual({});
  });

  it('title, sender, note, sizes and metadata for the manifest; odd fields ignored', () => {
    const link = { kind: 'faspex5-inbox', packageId: '7' } as PackageLink;
    expect(toResolvedPackage(link, info, toTransferSpec(SPEC, 'f5'))).toMatchObject({
      packageId: '7', title: 'T', sender: 'jane@example.com', note: 'n', totalBytes: 10, recipients: ['Team', 'alice@example.com'], metadata: { Project: 'A', n: '3' },
    });
    expect(readPackageInfo({ title: 42, total_bytes: -1 }, 'f5')).toEqual({ title: undefined, total_bytes: undefined });
  });
});

describe('OAuth pieces', () => {
  it.each([
    ['https://h/aspera/faspex/public/package?context=x', 'https://h/aspera/faspex'],
    ['https://h/aspera/faspex?context=x', 'https://h/aspera/faspex'],
    ['https://h:8443/custom/public?context=x', 'https://h:8443/custom'],
    ['https://h/?context=x', 'https://h/aspera/faspex'],
  ])('the web root of %s is %s', (url, base) => {
    expect(publicBaseUrl(new URL(url))).toBe(base);
  });

  it('the authorize Location gives a code (a secret) or the server\'s reason', () => {
    const req = new URL('https://h/aspera/faspex/auth/authorize_public_link');
    expect(readAuthorizeLocation('/aspera/faspex/token?code=c0de-1234&state=s', req)).toEqual({ ok: true, code: 'c0de-1234' });
    expect(maskText('got c0de-1234')).toBe('got ***');
    expect(readAuthorizeLocation('https://h/x?action_message=Link+expired%0Anow', req)).toEqual({ ok: false, reason: 'Link expired now' });
    expect(() => readAuthorizeLocation('/aspera/faspex/token?state=s', req)).toThrow(/without a code/);
    expect(() => readAuthorizeLocation(undefined, req)).toThrow(/nowhere/);
  });

  it('a redirect_uri must resolve to an allowed host', () => {
    const allow = parseAllowlist('f5.example.com');
    expect(checkedRedirectUri('/aspera/faspex/token', 'https://f5.example.com/aspera/faspex', allow)).toBe('/aspera/faspex/token');
    expect(() => checkedRedirectUri('https://evil.example/cb', 'https://f5.example.com/aspera/faspex', allow)).toThrow(/FASPEX_ALLOWED_HOSTS/);
  });

  it('access tokens are read and registered; other answers are BAD_RESPONSE', () => {
    expect(readAccessToken('{"access_token":"acc-777-xyz","token_type":"Bearer"}', 'h')).toBe('acc-777-xyz');
    expect(maskText('acc-777-xyz')).toBe('***');
    expect(() => readAccessToken('<html>', 'h')).toThrow(/not JSON/);
    expect(() => readAccessToken('{"error":"x"}', 'h')).toThrow(/without an access_token/);
  });

  it('X-IBM-Aspera version header', () => {
    expect(faspexVersion('F5.0.13')).toEqual([5, 0, 13]);
    expect(faspexVersion(['F5.1.0 build 2'])).toEqual([5, 1, 0]);
    expect(faspexVersion('Node 4.4')).toBeUndefined();
  });
});

describe('JWT', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it('RS256 with the claims Faspex 5 expects', () => {
    const jwt = jwtAssertion({ clientId: 'cid', user: 'ingest@example.com', key: privateKey, now: 1_700_000_000, jti: 'j1' });
    const [h, p, s] = jwt.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ typ: 'JWT', alg: 'RS256' });
    expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toEqual({
      iss: 'cid', aud: 'cid', sub: 'user:ingest@example.com', iat: 1_699_999_940, nbf: 1_699_999_940, exp: 1_700_000_600, jti: 'j1',
    });
    expect(verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))).toBe(true);
    const form = new URLSearchParams(jwtTokenForm('cid', jwt));
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(maskText(jwt)).toBe('***');
  });

  it('key problems are CONFIG errors naming FASPEX5_CLIENTS and the file, never the key', () => {
    const client = { server: 'h', clientId: 'c', user: 'u', privateKeyFile: '/keys/f5.pem' };
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(loadPrivateKey(client, () => pem).asymmetricKeyType).toBe('rsa');
    expect(() => loadPrivateKey(client, () => { throw Object.assign(new Error('x'), { code: 'ENOENT' }); })).toThrow(/FASPEX5_CLIENTS \(\/keys\/f5.pem\) cannot be read: ENOENT/);
    expect(() => loadPrivateKey(client, () => 'not a key')).toThrow(/not a PEM private key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadPrivateKey(client, () => ec)).toThrow(/needs an RSA key/);
  });
});
