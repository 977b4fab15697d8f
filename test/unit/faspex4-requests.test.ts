import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import {
  derivedBaseUrl,
  escapeAttribute,
  externalDescriptionRequest,
  filesFromLinks,
  issueTokenBody,
  issueTokenRequest,
  readIssuedToken,
  receivedDescriptionRequest,
  titleFromPath,
} from '../../src/faspex/faspex4-requests.js';
import type { Faspex4Package } from '../../src/faspex/faspex4-xml.js';
import { parsePackageLink } from '../../src/faspex/link.js';
import { maskText } from '../../src/log/secrets.js';

const PASSCODE = '7e1b56a2206506bcb1d47beb33598b12d2a8507a';

describe('the package description request', () => {
  it.each([
    [`https://fx.example.com/aspera/faspex/external_deliveries/4822?passcode=${PASSCODE}`, `https://fx.example.com/aspera/faspex/external_deliveries/4822?passcode=${PASSCODE}`],
    [`https://fx.example.com/aspera/faspex/external_deliveries/4822/?passcode=${PASSCODE}`, `https://fx.example.com/aspera/faspex/external_deliveries/4822?passcode=${PASSCODE}`],
    [`https://fx.example.com:443/aspera/faspex/external_deliveries/4822?passcode=${PASSCODE}`, `https://fx.example.com/aspera/faspex/external_deliveries/4822?passcode=${PASSCODE}`],
    [`https://FX.example.com:8443/custom/root/external_deliveries/7?utm_source=mail&passcode=${PASSCODE}&x=1`, `https://fx.example.com:8443/custom/root/external_deliveries/7?passcode=${PASSCODE}`],
    ['https://fx.example.com/external_deliveries/7?passcode=a%2Bb%20c', 'https://fx.example.com/external_deliveries/7?passcode=a%2Bb+c'],
  ])('external %s → GET %s, only the passcode re-sent, no credentials', (link, url) => {
    const planned = externalDescriptionRequest(parsePackageLink(link));
    expect(planned).toEqual({ method: 'GET', url, headers: { accept: 'application/xml' } });
  });

  it.each([
    ['https://fx.example.com/aspera/faspex/received/4044', 'https://fx.example.com/aspera/faspex/received/4044'],
    ['https://fx.example.com:443/aspera/faspex/received/4044/', 'https://fx.example.com/aspera/faspex/received/4044'],
  ])('received %s → GET %s with Basic credentials', (link, url) => {
    const planned = receivedDescriptionRequest(parsePackageLink(link), { username: 'alice', password: 's3cret-pw' });
    expect(planned).toEqual({ method: 'GET', url, headers: { accept: 'application/xml', authorization: `Basic ${Buffer.from('alice:s3cret-pw').toString('base64')}` } });
    expect(maskText(planned.headers.authorization!)).not.toContain(Buffer.from('alice:s3cret-pw').toString('base64'));
  });
});

describe('issue-token', () => {
  it('builds the exact request of faspex-protocol.md §3.2', () => {
    const fasp = 'faspe://faspex@fx:33001/p%20q?cookie=c&port=33001&v=2';
    expect(issueTokenRequest('https://fx/aspera/faspex', fasp, { username: 'u', password: 'pw-1234' })).toEqual({
      method: 'POST',
      url: 'https://fx/aspera/faspex/issue-token?direction=down',
      headers: { authorization: `Basic ${Buffer.from('u:pw-1234').toString('base64')}`, accept: 'text/plain', 'content-type': 'application/vnd.aspera.url-list+xml' },
      body: '<?xml version="1.0" encoding="UTF-8"?><url-list xmlns="http://schemas.asperasoft.com/xml/url-list"><url href="faspe://faspex@fx:33001/p%20q?cookie=c&amp;port=33001&amp;v=2"/></url-list>',
    });
  });

  it.each([
    ['a&b', 'a&amp;b'],
    ['<"x">', '&lt;&quot;x&quot;&gt;'],
    ['%3D%3D', '%3D%3D'],
    ['&amp;', '&amp;amp;'],
  ])('escapes %s as %s, nothing else', (raw, escaped) => {
    expect(escapeAttribute(raw)).toBe(escaped);
    expect(issueTokenBody(raw)).toContain(`href="${escaped}"`);
  });

  it.each([
    ['ATV2_abc\n', 'ATV2_abc'],
    ['  ATV2_abc \r\n', 'ATV2_abc'],
  ])('the token is the trimmed body', (body, token) => {
    expect(readIssuedToken(body, 'fx')).toBe(token);
    expect(maskText(`x ${token} y`)).toBe('x *** y');
  });

  it.each(['', '  \n', '<html><body>login</body></html>', 'two words'])('refuses %j as a token', (body) => {
    expect(() => readIssuedToken(body, 'fx')).toThrow(expect.objectContaining({ code: 'BAD_RESPONSE', retry: 'never' }));
  });
});

describe('derivedBaseUrl: the web root of a raw faspe:// link', () => {
  it.each([
    ['fx.example.com', '', 'https://fx.example.com/aspera/faspex'],
    ['fx.example.com', 'fx.example.com:8443', 'https://fx.example.com:8443/aspera/faspex'],
    ['fx.example.com', 'http://fx.example.com:8080', 'http://fx.example.com:8080/aspera/faspex'],
    ['fx.example.com', 'fx.example.com, fx.example.com:8443', 'https://fx.example.com/aspera/faspex'],
    ['FX.example.com', '*.example.com', 'https://fx.example.com/aspera/faspex'],
    ['127.0.0.1', '127.0.0.1:9443', 'https://127.0.0.1:9443/aspera/faspex'],
  ])('%s with allowlist %j → %s', (host, allow, base) => {
    expect(derivedBaseUrl(host, allow ? parseAllowlist(allow) : [])).toBe(base);
  });
});

describe('files and title', () => {
  const pkg = (links: Array<{ href: string; title?: string; length?: number }>): Faspex4Package => ({
    recipients: [], metadata: {}, packageUrl: 'faspe://h/u.aspera-package/PKG%20-%20T', fileLinks: links.map((l) => ({ rel: 'content', ...l })),
  });
  it('paths relative to the package folder, sizes from length', () => {
    expect(filesFromLinks(pkg([
      { href: 'faspe://h:1/u.aspera-package/PKG%20-%20T/a.txt?token=x', length: 3 },
      { href: 'faspe://h:1/u.aspera-package/PKG%20-%20T/sub/b+c.bin' },
      { href: 'faspe://h:1/elsewhere/d.txt', title: 'd-title.txt' },
      { href: 'faspe://h:1/elsewhere/e.txt' },
    ]), '/u.aspera-package/PKG - T')).toEqual([
      { path: 'a.txt', size: 3 },
      { path: 'sub/b c.bin' },
      { path: 'd-title.txt' },
      { path: 'e.txt' },
    ]);
  });
  it.each([
    ['/u.aspera-package/PKG - Q3 report', 'Q3 report'],
    ['/u.aspera-package/PKG - Q3 report/', 'Q3 report'],
    ['/some/folder', undefined],
  ])('title of %s is %s', (path, title) => {
    expect(titleFromPath(path)).toBe(title);
  });
});
