/**
 * Faspex 5, pure parts: config.js read without eval, FASPEX5_CLIENTS, and which links are
 * Faspex 5 ones (public contexts validated, the likely inbox forms).
 */
import { describe, expect, it } from 'vitest';
import { parseFaspex5Clients } from '../../src/faspex/faspex5-clients.js';
import { parseConfigJs, readWebClientConfig } from '../../src/faspex/faspex5-configjs.js';
import { classifyLink } from '../../src/faspex/link.js';
import { maskText } from '../../src/log/secrets.js';

const ctx = (v: Record<string, unknown>) => Buffer.from(JSON.stringify(v)).toString('base64');
const GOOD = { resource: 'packages', type: 'external_download_package', id: '741', passcode: 'bc46aa00ee23f', package_id: '741', email: 'x@y.example' };

describe('config.js', () => {
  it.each([
    ['unquoted keys, single quotes', "window.faspexConfig = { client_id: 'aBc', redirect_uri: '/aspera/faspex/token' };"],
    ['quoted keys, double quotes, no semicolon', 'var config = {"client_id": "aBc", "redirect_uri": "/aspera/faspex/token"}'],
    ['comments, nesting, trailing commas', "// settings\nconst c = {\n  /* web */ client_id: 'aBc', // id\n  redirect_uri: '/aspera/faspex/token',\n  locales: ['en', 'fr',], sso: { on: false, n: -1.5e2 }, x: null,\n};\n"],
    ['escapes', "c = { client_id: 'a\\x42c', redirect_uri: '/aspera/faspex/\\u0074oken' }"],
  ])('reads %s', (_n, text) => {
    expect(readWebClientConfig(text, 'h')).toEqual({ clientId: 'aBc', redirectUri: '/aspera/faspex/token' });
  });

  it.each([
    ['a function call', "c = { client_id: f('x'), redirect_uri: '/t' }"],
    ['an identifier', 'c = { client_id: window.id, redirect_uri: "/t" }'],
    ['a template string', 'c = { client_id: `x`, redirect_uri: "/t" }'],
    ['code after the literal', "c = { client_id: 'x', redirect_uri: '/t' }; fetch('https://evil')"],
    ['no assignment', "{ client_id: 'x' }"],
    ['an unterminated string', "c = { client_id: 'x }"],
  ])('refuses %s without evaluating it', (_n, text) => {
    expect(() => parseConfigJs(text)).toThrow(SyntaxError);
    expect(() => readWebClientConfig(text, 'h')).toThrow(/config.js this client cannot read/);
  });

  it('names what is missing', () => {
    expect(() => readWebClientConfig("c = { client_id: 'x' }", 'f5.example')).toThrow(/without client_id and redirect_uri/);
  });

  it('keys like __proto__ are plain data', () => {
    const v = parseConfigJs("c = { __proto__: { polluted: true }, client_id: 'x' }");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(v.client_id).toBe('x');
  });
});

describe('FASPEX5_CLIENTS', () => {
  it('unset or blank: no clients', () => {
    expect(parseFaspex5Clients(undefined).size).toBe(0);
    expect(parseFaspex5Clients('  ').size).toBe(0);
  });

  it('keys become link servers (lower-case, default port dropped); relative key files resolve against cwd', () => {
    const clients = parseFaspex5Clients(JSON.stringify({
      'Faspex5.Example.com': { client_id: 'c1', user: 'ingest', private_key_file: 'keys/f5.pem' },
      'https://other.example:8443': { client_id: 'c2', user: 'u2', private_key_file: '/k.pem', private_key_passphrase: 'pass-phrase-1', client_secret: 'sec-ret-22' },
      'third.example:443': { client_id: 'c3', user: 'u3', private_key_file: '/k3.pem' },
    }), '/srv/app');
    expect([...clients.keys()]).toEqual(['faspex5.example.com', 'other.example:8443', 'third.example']);
    // no boxes, backfill or senders given: the own inbox, remember-only first sweep, no sender
    expect(clients.get('faspex5.example.com')).toEqual({
      server: 'faspex5.example.com', clientId: 'c1', user: 'ingest', privateKeyFile: '/srv/app/keys/f5.pem',
      boxes: [{ kind: 'inbox' }], backfill: { kind: 'none' }, senders: [],
    });
    expect(clients.get('other.example:8443')).toMatchObject({ privateKeyPassphrase: 'pass-phrase-1', clientSecret: 'sec-ret-22' });
    expect(maskText('x pass-phrase-1 sec-ret-22')).toBe('x *** ***');
  });

  it.each([
    ['not JSON', '{client_id:', /not valid JSON/],
    ['an array', '[]', /FASPEX5_CLIENTS/],
    ['a missing field', JSON.stringify({ h: { client_id: 'c', user: 'u' } }), /FASPEX5_CLIENTS at h\.private_key_file/],
    ['an unknown field', JSON.stringify({ h: { client_id: 'c', user: 'u', private_key_file: '/k', password: 'hunter2-secret' } }), /unknown field\(s\) password/],
    ['a key with a path', JSON.stringify({ 'h.example/aspera': { client_id: 'c', user: 'u', private_key_file: '/k' } }), /without a path/],
    ['a server twice', JSON.stringify({ 'h.example': { client_id: 'c', user: 'u', private_key_file: '/k' }, 'H.example:443': { client_id: 'c', user: 'u', private_key_file: '/k' } }), /twice/],
  ])('refuses %s with CONFIG naming the variable and no value', (_n, raw, message) => {
    let caught: unknown;
    try {
      parseFaspex5Clients(raw);
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'CONFIG', retry: 'never' });
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toContain('hunter2');
  });
});

describe('Faspex 5 links', () => {
  it('a public link: package id and passcode from the context, both secrets', () => {
    const context = ctx(GOOD);
    const v = classifyLink(`https://F5.example.com/aspera/faspex/public/package?context=${encodeURIComponent(context)}&redirected=true`);
    expect(v).toMatchObject({ ok: true, link: { kind: 'faspex5-public', server: 'f5.example.com', baseUrl: 'https://f5.example.com/aspera/faspex', packageId: '741', passcode: 'bc46aa00ee23f', context } });
    expect(maskText(`passcode bc46aa00ee23f and ${context}`)).toBe('passcode *** and ***');
  });

  it.each([
    ['not base64 JSON', 'bm90IGpzb24='],
    ['no passcode', ctx({ ...GOOD, passcode: '' })],
    ['no package id', ctx({ ...GOOD, package_id: undefined })],
    ['a package id with a path in it', ctx({ ...GOOD, package_id: '../admin' })],
  ])('a context with %s is invalid', (_n, context) => {
    expect(classifyLink(`https://f5.example.com/aspera/faspex/public/package?context=${encodeURIComponent(context)}`)).toMatchObject({ ok: false, what: 'invalid' });
  });

  it('a public upload (submission) link is not a download', () => {
    expect(classifyLink(`https://f5.example.com/aspera/faspex/public/package?context=${ctx({ ...GOOD, type: 'external_submission' })}`)).toMatchObject({ ok: false, what: 'upload-form' });
  });

  it.each([
    ['/aspera/faspex/inbox/684', '684'],
    ['/aspera/faspex/packages/684', '684'],
    ['/aspera/faspex/inbox/packages/aBc_12', 'aBc_12'],
    ['/custom/aspera/faspex/inbox/12/', '12'],
  ])('%s is a Faspex 5 inbox link', (path, id) => {
    const v = classifyLink(`https://f5.example.com${path}`);
    expect(v).toMatchObject({ ok: true, link: { kind: 'faspex5-inbox', packageId: id } });
    if (v.ok) expect(v.link.baseUrl).toBe(`https://f5.example.com${path.replace(/\/(inbox|packages).*$/, '')}`);
  });

  it('received/<digits> stays a Faspex 4 link', () => {
    expect(classifyLink('https://f4.example.com/aspera/faspex/received/684')).toMatchObject({ ok: true, link: { kind: 'faspex4-received' } });
  });
});
