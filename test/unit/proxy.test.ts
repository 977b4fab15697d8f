import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { classifyProxyRefusal, classifyTransportError } from '../../src/http/errors.js';
import { proxyFor, shownProxy } from '../../src/http/proxy.js';
import { maskText } from '../../src/log/secrets.js';

const P = 'http://proxy.corp:3128';
const H = 'http://plain-proxy.corp:8080';

describe('proxyFor: which proxy a request takes', () => {
  it.each([
    // target, settings, expected
    ['https://fx.example.com/x', { httpsProxy: P }, P],
    ['http://hooks.example.com/x', { httpsProxy: P }, undefined],
    ['http://hooks.example.com/x', { httpProxy: H }, H],
    ['https://fx.example.com/x', { httpProxy: H }, H],
    ['https://fx.example.com/x', { httpsProxy: P, httpProxy: H }, P],
    ['https://fx.example.com/x', {}, undefined],
    ['https://fx.example.com/x', { httpsProxy: P, noProxy: 'fx.example.com' }, undefined],
    ['https://fx.example.com/x', { httpsProxy: P, noProxy: 'example.com' }, undefined],
    ['https://fx.example.com/x', { httpsProxy: P, noProxy: '.example.com' }, undefined],
    ['https://fx.example.com/x', { httpsProxy: P, noProxy: '*.example.com' }, undefined],
    ['https://example.com/x', { httpsProxy: P, noProxy: '.example.com' }, undefined],
    ['https://notexample.com/x', { httpsProxy: P, noProxy: 'example.com' }, P],
    ['https://FX.Example.COM/x', { httpsProxy: P, noProxy: 'fx.EXAMPLE.com' }, undefined],
    ['https://fx.example.com/x', { httpsProxy: P, noProxy: 'fx.example.com:443' }, undefined],
    ['https://fx.example.com:8443/x', { httpsProxy: P, noProxy: 'fx.example.com:443' }, P],
    ['https://fx.example.com:8443/x', { httpsProxy: P, noProxy: 'fx.example.com:8443' }, undefined],
    ['https://fx.example.com/x', { httpsProxy: P, noProxy: '*' }, undefined],
    ['https://fx.example.com/x', { httpsProxy: P, noProxy: ' a.org ,  fx.example.com b.org' }, undefined],
    ['https://fx.example.com/x', { httpsProxy: P, noProxy: '' }, P],
    ['https://127.0.0.1:9/x', { httpsProxy: P, noProxy: 'localhost,127.0.0.1' }, undefined],
    ['https://[::1]:9/x', { httpsProxy: P, noProxy: '::1' }, undefined],
    ['https://[::1]:9/x', { httpsProxy: P, noProxy: '[::1]:9' }, undefined],
    // no CIDR matching (undici has none): an address range is not a host name
    ['https://10.1.2.3/x', { httpsProxy: P, noProxy: '10.0.0.0/8' }, P],
  ] as const)('%s with %o → %s', (target, settings, expected) => {
    expect(proxyFor(new URL(target), settings)).toBe(expected);
  });

  it('shows a proxy without its login', () => {
    expect(shownProxy('http://user:s3cr3t@proxy.corp:3128')).toBe('http://proxy.corp:3128');
    expect(shownProxy('not a url')).toBe('the configured proxy');
  });
});

describe('proxy variables', () => {
  const base = { FASPEX_ALLOWED_HOSTS: 'fx.example.com' };
  const proxyOf = (env: Record<string, string>) => loadConfig({ ...base, ...env }, 'work', '/srv').proxy;

  it.each([
    [{ HTTPS_PROXY: P }, { httpsProxy: P }],
    [{ https_proxy: P }, { httpsProxy: P }],
    [{ HTTPS_PROXY: H, https_proxy: P }, { httpsProxy: P }],
    [{ HTTP_PROXY: H, NO_PROXY: 'a.org' }, { httpProxy: H, noProxy: 'a.org' }],
    [{ http_proxy: H, no_proxy: 'b.org', NO_PROXY: 'a.org' }, { httpProxy: H, noProxy: 'b.org' }],
    [{ https_proxy: '', HTTPS_PROXY: P }, { httpsProxy: P }],
  ])('%o → %o (the lowercase form wins, as in undici and curl)', (env, expected) => {
    expect(proxyOf(env)).toEqual({ httpsProxy: undefined, httpProxy: undefined, noProxy: undefined, ...expected });
  });

  it('the Faspex client gets the same settings', () => {
    const c = loadConfig({ ...base, HTTPS_PROXY: P }, 'work', '/srv');
    expect(c.faspex.proxy).toEqual(c.proxy);
  });

  it.each([
    [{ HTTPS_PROXY: 'proxy.corp:3128' }, 'HTTPS_PROXY: expected a proxy URL such as http://proxy.example.com:3128'],
    [{ https_proxy: 'socks5://proxy.corp:1080' }, 'HTTPS_PROXY: expected an http:// or https:// proxy URL, not socks5://'],
    [{ HTTP_PROXY: 'http://proxy.corp:3128/path' }, 'HTTP_PROXY: expected a proxy URL without a path, such as http://proxy.example.com:3128'],
  ])('a bad proxy URL is named: %o', (env, problem) => {
    expect(() => proxyOf(env)).toThrow(ConfigError);
    try {
      proxyOf(env);
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([problem]);
    }
  });

  it("masks the proxy's password everywhere once configured", () => {
    proxyOf({ HTTPS_PROXY: 'http://ingest:pr0xy-S3cret@proxy.corp:3128' });
    expect(maskText('failed with pr0xy-S3cret in it')).not.toContain('pr0xy-S3cret');
  });
});

describe('proxy failures, classified', () => {
  const ctx = { url: new URL('https://fx.example.com/aspera/faspex/x'), what: 'the package description', proxy: 'http://proxy.corp:3128' };
  it.each([
    [403, 'never', /its rules do not allow this host or port.*NO_PROXY/],
    [405, 'never', /its rules do not allow/],
    [407, 'never', /needs a login; put user:password@ in front of the proxy's host/],
    [502, 'later', /could not reach fx\.example\.com or is overloaded/],
    [503, 'later', /could not reach/],
    [504, 'later', /could not reach/],
    [400, 'never', /not how a proxy allows a connection/],
  ])('CONNECT answered %i → PROXY (%s)', (status, retry, message) => {
    const e = classifyProxyRefusal(status, ctx);
    expect(e).toMatchObject({ code: 'PROXY', retry, details: { proxyStatus: status, proxy: 'http://proxy.corp:3128', host: 'fx.example.com' } });
    expect(e.message).toMatch(message);
    expect(e.message).toContain('the proxy http://proxy.corp:3128 answered');
  });

  it.each([
    [Object.assign(new Error('Proxy response (403) !== 200 when HTTP Tunneling'), { code: 'UND_ERR_ABORTED' }), 'PROXY', 'never'],
    [new Error('x', { cause: new Error('Proxy response (502) !== 200 when HTTP Tunneling') }), 'PROXY', 'later'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3128'), { code: 'ECONNREFUSED' }), 'PROXY', 'later'],
    [Object.assign(new Error('getaddrinfo ENOTFOUND proxy.corp'), { code: 'ENOTFOUND' }), 'PROXY', 'later'],
    // a reset mid-tunnel may come from either end: reported as the Faspex side, through the proxy
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'NETWORK', 'later'],
  ])('transport error %s through a proxy → %s', (err, code, retry) => {
    expect(classifyTransportError(err, ctx, 1000)).toMatchObject({ code, retry });
  });

  it('without a proxy, a refused connection is the Faspex server', () => {
    const e = classifyTransportError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), { url: ctx.url, what: ctx.what }, 1000);
    expect(e).toMatchObject({ code: 'NETWORK' });
    expect(e.message).toMatch(/^Faspex server fx\.example\.com refused the connection/);
  });
});
