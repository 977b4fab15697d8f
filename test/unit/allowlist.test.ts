import { describe, expect, it } from 'vitest';
import { AllowlistSyntaxError, isAllowed, isLinkAllowed, parseAllowlist } from '../../src/faspex/allowlist.js';

const list = parseAllowlist('faspex.example.com, *.studio.example, fx.local:8443, http://legacy.example.net:8080');

describe('allowlist', () => {
  it.each([
    ['https://faspex.example.com/aspera/faspex/received/1', true],
    ['https://FASPEX.example.com./aspera', true],
    ['https://faspex.example.com:443/x', true],
    ['https://faspex.example.com:8443/x', false],
    ['http://faspex.example.com/x', false],
    ['https://evil.faspex.example.com/x', false],
    ['https://faspex.example.com.evil.net/x', false],
    ['https://a.studio.example/x', true],
    ['https://a.b.studio.example/x', true],
    ['https://studio.example/x', false],
    ['https://xstudio.example/x', false],
    ['https://fx.local:8443/x', true],
    ['https://fx.local/x', false],
    ['http://legacy.example.net:8080/x', true],
    ['https://legacy.example.net:8080/x', false],
    ['https://user:pw@faspex.example.com/x', false],
    ['ftp://faspex.example.com/x', false],
    ['https://127.0.0.1/x', false],
  ])('%s → %s', (url, allowed) => {
    expect(isAllowed(new URL(url), list)).toBe(allowed);
  });

  it.each([
    ['https://a.example.com/path', /not a URL path/],
    ['*.com', /at least two labels/],
    ['exa mple.com', /not a host name/],
    ['host:99999', /out of range/],
    ['*.[::1]', /wildcard/],
  ])('rejects %s', (entry, message) => {
    expect(() => parseAllowlist(entry)).toThrow(AllowlistSyntaxError);
    expect(() => parseAllowlist(entry)).toThrow(message);
  });

  it('allows IP literals only when written out', () => {
    expect(isAllowed(new URL('https://127.0.0.1:9443/x'), parseAllowlist('127.0.0.1:9443'))).toBe(true);
  });
});

describe('isLinkAllowed: one rule for every way a link arrives', () => {
  const allow = parseAllowlist('faspex.example.com, *.xfer.example.net');
  it.each([
    [{ kind: 'faspex4-external', url: 'https://faspex.example.com/aspera/faspex/external_deliveries/1?passcode=x', server: 'faspex.example.com' }, true],
    [{ kind: 'faspex4-external', url: 'https://evil.example.org/aspera/faspex/external_deliveries/1?passcode=x', server: 'evil.example.org' }, false],
    // a raw faspe:// link sends ascp to its host directly: that host must be allowed (any port)
    [{ kind: 'fasp-url', url: 'faspe://faspex@faspex.example.com:33001/p?token=t', server: 'faspex.example.com' }, true],
    [{ kind: 'fasp-url', url: 'faspe://faspex@a.xfer.example.net:33001/p?token=t', server: 'a.xfer.example.net' }, true],
    [{ kind: 'fasp-url', url: 'faspe://faspex@evil.example.org:33001/p?token=t', server: 'evil.example.org' }, false],
    [{ kind: 'faspex5-public', url: 'not a url', server: 'x' }, false],
  ])('%o → %s', (link, allowed) => {
    expect(isLinkAllowed(link, allow)).toBe(allowed);
  });
});
