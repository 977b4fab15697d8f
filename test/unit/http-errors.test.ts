import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { assertAllowed } from '../../src/faspex/http.js';
import { classifyRedirect, classifyStatus, classifyTransportError } from '../../src/http/errors.js';

const PASSCODE = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const ctx = { url: new URL(`https://fx.example.com:8443/aspera/faspex/external_deliveries/1?passcode=${PASSCODE}`), what: 'the package description' };

describe('classifyStatus', () => {
  it.each([
    [401, 'AUTH_FAILED', 'never', /FASPEX_USERNAME and FASPEX_PASSWORD/],
    [403, 'FORBIDDEN', 'never', /forbidden/],
    [404, 'NOT_FOUND', 'never', /not found/],
    [410, 'NOT_FOUND', 'never', /not found/],
    [408, 'TIMEOUT', 'later', /timeout/],
    [429, 'SERVER_ERROR', 'later', /too many/],
    [500, 'SERVER_ERROR', 'later', /server error/],
    [502, 'SERVER_ERROR', 'later', /server error/],
    [503, 'SERVER_ERROR', 'later', /server error/],
    [406, 'BAD_RESPONSE', 'never', /does not expect/],
    [415, 'BAD_RESPONSE', 'never', /does not expect/],
  ])('%i → %s (%s)', (status, code, retry, message) => {
    const e = classifyStatus(status, ctx);
    expect(e).toMatchObject({ code, retry, details: { status, host: 'fx.example.com:8443' } });
    expect(e.message).toMatch(message);
    expect(e.message).toContain('fx.example.com:8443');
  });
});

describe('classifyRedirect', () => {
  it.each([
    ['/aspera/faspex/login?redirect_to=x', 'LINK_EXPIRED', /login page/],
    ['https://fx.example.com:8443/aspera/faspex/account/login', 'LINK_EXPIRED', /login page/],
    ['/sso/saml', 'LINK_EXPIRED', /login page/],
    ['https://evil.example.net/steal', 'REDIRECTED', /another host, evil\.example\.net .*never followed.*not contacted/],
    ['http://fx.example.com:8443/aspera/faspex/login', 'REDIRECTED', /another host/],
    ['/aspera/faspex/somewhere', 'REDIRECTED', /not followed/],
  ])('Location %s → %s', (location, code, message) => {
    const e = classifyRedirect(302, location, ctx);
    expect(e).toMatchObject({ code, retry: 'never' });
    expect(e.message).toMatch(message);
  });

  it('a redirect carrying the passcode is shown masked', () => {
    const e = classifyRedirect(302, `https://other.example.net/x?passcode=${PASSCODE}`, ctx);
    expect(e.message).not.toContain(PASSCODE);
    expect(JSON.stringify(e.details)).not.toContain(PASSCODE);
  });

  it('without a Location → BAD_RESPONSE', () => {
    expect(classifyRedirect(301, undefined, ctx).code).toBe('BAD_RESPONSE');
  });
});

describe('classifyTransportError', () => {
  const err = (code: string, nested = false) => {
    const inner = Object.assign(new Error(`boom ${code}`), { code });
    return nested ? Object.assign(new TypeError('fetch failed'), { cause: inner }) : inner;
  };
  it.each([
    ['ECONNREFUSED', 'NETWORK', 'later', /refused the connection/],
    ['ECONNRESET', 'NETWORK', 'later', /closed the connection/],
    ['ENOTFOUND', 'NETWORK', 'later', /DNS/],
    ['EAI_AGAIN', 'NETWORK', 'later', /DNS/],
    ['UND_ERR_SOCKET', 'NETWORK', 'later', /closed the connection/],
    ['UND_ERR_CONNECT_TIMEOUT', 'TIMEOUT', 'later', /within 5 s/],
    ['UND_ERR_HEADERS_TIMEOUT', 'TIMEOUT', 'later', /FASPEX_TIMEOUT_SECONDS/],
    ['UND_ERR_BODY_TIMEOUT', 'TIMEOUT', 'later', /within/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'TLS', 'never', /FASPEX_CA_FILE/],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'TLS', 'never', /FASPEX_CA_FILE/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS', 'never', /FASPEX_CA_FILE/],
    ['CERT_HAS_EXPIRED', 'TLS', 'never', /FASPEX_CA_FILE/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS', 'never', /could not be verified/],
    ['EPROTO', 'TLS', 'never', /handshake/],
    ['EWHATEVER', 'NETWORK', 'later', /failed/],
  ])('%s → %s (%s)', (code, expected, retry, message) => {
    for (const nested of [false, true]) {
      const e = classifyTransportError(err(code, nested), ctx, 5000);
      expect(e).toMatchObject({ code: expected, retry });
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain(PASSCODE);
    }
  });
});

describe('assertAllowed: the allowlist guard', () => {
  const allow = parseAllowlist('fx.example.com, http://plain.example.com:8080, *.corp.example');
  it.each([
    ['https://fx.example.com/aspera/faspex/received/1', true],
    ['https://FX.EXAMPLE.COM:443/x', true],
    ['https://a.b.corp.example/x', true],
    ['http://plain.example.com:8080/x', true],
    ['https://plain.example.com:8080/x', false],
    ['http://fx.example.com/x', false],
    ['https://fx.example.com:8443/x', false],
    ['https://evil.example.net/x', false],
    ['https://user:pw@fx.example.com/x', false],
    ['ftp://fx.example.com/x', false],
  ])('%s allowed: %s', (url, ok) => {
    if (ok) expect(assertAllowed(new URL(url), allow)).toBeDefined();
    else expect(() => assertAllowed(new URL(url), allow)).toThrow(expect.objectContaining({ code: 'HOST_NOT_ALLOWED', retry: 'never' }));
  });

  it('names the host and FASPEX_ALLOWED_HOSTS', () => {
    expect(() => assertAllowed(new URL('https://evil.example.net:444/x?passcode=zzzzzzzz'), allow)).toThrow(/evil\.example\.net:444 is not in FASPEX_ALLOWED_HOSTS/);
    expect(() => assertAllowed(new URL('http://fx.example.com/x'), allow)).toThrow(/plain http .*http:\/\/fx\.example\.com/);
  });
});
