import { describe, expect, it } from 'vitest';
import { IngestError } from '../../src/errors.js';
import { parseFaspUrl } from '../../src/fasp/fasp-url.js';
import type { TransferSpec } from '../../src/fasp/transfer-spec.js';
import { maskText } from '../../src/log/secrets.js';
import { SEED_COOKIE, SEED_SOURCE, SEED_URL } from '../support/fasp-fixtures.js';

const BASE = 'faspe://faspex@acme-faspex:33001/pkg';

function linkError(url: string): IngestError {
  try {
    parseFaspUrl(url);
  } catch (e) {
    expect(e).toBeInstanceOf(IngestError);
    const err = e as IngestError;
    expect(err.code).toBe('LINK_INVALID');
    expect(err.retry).toBe('never');
    return err;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('parseFaspUrl: the seed example', () => {
  it('gives every field of the Faspex 4 package link', () => {
    expect(parseFaspUrl(SEED_URL)).toEqual<TransferSpec>({
      direction: 'receive',
      remote_host: 'acme-faspex',
      remote_user: 'faspex',
      ssh_port: 33001,
      paths: [{ source: SEED_SOURCE }],
      cookie: SEED_COOKIE,
      fasp_port: 33001,
      rate_policy: 'fair',
      target_rate_kbps: 45000,
      min_rate_kbps: 0,
      cipher: 'aes-128',
      http_fallback: true,
      http_fallback_port: 443,
      create_dir: false,
      lock_rate_policy: true,
      lock_min_rate: true,
      target_rate_cap_kbps: 100000,
    });
  });

  it('registers the cookie for masking as soon as it is parsed', () => {
    parseFaspUrl(SEED_URL);
    expect(maskText(`cookie is ${SEED_COOKIE}`)).toBe('cookie is ***');
  });
});

describe('parseFaspUrl: URL parts', () => {
  it.each<[string, string, Partial<TransferSpec>]>([
    ['fasp:// scheme', 'fasp://u@h:22/p', { remote_user: 'u', remote_host: 'h', ssh_port: 22, paths: [{ source: '/p' }] }],
    ['scheme in capitals', 'FASPE://u@h/p', { remote_host: 'h' }],
    ['no port: left to ascp defaults', 'faspe://u@h/p', { remote_user: 'u', remote_host: 'h', paths: [{ source: '/p' }] }],
    ['empty port is absent', 'faspe://u@h:/p', { remote_host: 'h' }],
    ['password ignored', 'faspe://my_user_here:my_pass_here@host:33001/path', { remote_user: 'my_user_here', remote_host: 'host', ssh_port: 33001 }],
    ['IPv6 host without brackets', 'faspe://u@[2001:db8::1]:33001/p', { remote_host: '2001:db8::1', ssh_port: 33001 }],
    ['percent-encoded user', 'faspe://a%40b@h/p', { remote_user: 'a@b' }],
    ['%20 and + both become spaces', 'faspe://u@h/PKG%20-+test', { paths: [{ source: '/PKG - test' }] }],
    ['raw spaces tolerated', 'faspe://u@h/PKG - test?token=abcd', { paths: [{ source: '/PKG - test' }], token: 'abcd' }],
    ['%2F kept as in ascli (double slash)', 'faspe://u@h/%2Fpackages%2Fa.aspera-package', { paths: [{ source: '//packages/a.aspera-package' }] }],
    ['dot segments kept, not resolved', 'faspe://u@h/a/../b', { paths: [{ source: '/a/../b' }] }],
    ['unicode path', 'faspe://u@h/r%C3%A9sum%C3%A9', { paths: [{ source: '/résumé' }] }],
    ['missing query is empty', 'faspe://u@h/p', { direction: 'receive' }],
    ['empty query is empty', 'faspe://u@h/p?', { direction: 'receive' }],
    ['fragment ignored', 'faspe://u@h/p?port=1#x', { fasp_port: 1 }],
    ['surrounding whitespace trimmed', '  faspe://u@h/p?port=2\n', { fasp_port: 2 }],
  ])('%s', (_, url, expected) => {
    expect(parseFaspUrl(url)).toMatchObject({ direction: 'receive', ...expected });
  });
});

describe('parseFaspUrl: query parameters', () => {
  it.each<[string, Partial<TransferSpec>]>([
    ['token=T0k3n', { token: 'T0k3n' }],
    ['cookie=a%3Ab%3Dc', { cookie: 'a:b=c' }],
    ['sshfp=SHA256:abc', { sshfp: 'SHA256:abc' }],
    ['policy=low', { rate_policy: 'low' }],
    ['policy=fair', { rate_policy: 'fair' }],
    ['policy=high', { rate_policy: 'high' }],
    ['policy=fixed', { rate_policy: 'fixed' }],
    ['targetrate=100000', { target_rate_kbps: 100000 }],
    ['targetrate=0', { target_rate_kbps: 0 }],
    ['minrate=10', { min_rate_kbps: 10 }],
    ['port=33002', { fasp_port: 33002 }],
    ['httpport=8443', { http_fallback_port: 8443 }],
    ['bwcap=500000', { target_rate_cap_kbps: 500000 }],
    ['enc=aes128', { cipher: 'aes-128' }],
    ['enc=aes192', { cipher: 'aes-192' }],
    ['enc=aes256', { cipher: 'aes-256' }],
    ['enc=aes256cfb', { cipher: 'aes-256-cfb' }],
    ['enc=aes-256-cfb', { cipher: 'aes-256-cfb' }],
    ['enc=aes128gcm', { cipher: 'aes-128-gcm' }],
    ['enc=none', { cipher: 'none' }],
    ['tags64=ImZvbyIK', { tags: 'foo' }],
    [`tags64=${Buffer.from('{"aspera":{"faspex":{"pkg":1}}}').toString('base64')}`, { tags: { aspera: { faspex: { pkg: 1 } } } }],
    ['tags64=eyJhIjoiPj8+In0=', { tags: { a: '>?>' } }],
    ['tags64=eyJhIjoiPj8 In0=', { tags: { a: '>?>' } }], // a raw + decoded to a space, repaired
    ['createpath=yes', { create_dir: true }],
    ['createpath=no', { create_dir: false }],
    ['fallback=yes', { http_fallback: true }],
    ['fallback=no', { http_fallback: false }],
    ['lockpolicy=yes', { lock_rate_policy: true }],
    ['lockpolicy=no', { lock_rate_policy: false }],
    ['lockminrate=yes', { lock_min_rate: true }],
    ['lockminrate=NO', { lock_min_rate: false }],
    ['token=abc==', { token: 'abc==' }],
    ['token=abc%3D%3D', { token: 'abc==' }],
    ['token=a+b', { token: 'a b' }],
    ['token[]=abcd', { token: 'abcd' }],
    ['token=same1&token=same1', { token: 'same1' }],
    ['port=1&auth=yes&auth=no&v=2&v=3&protect=x&bad=xx&bad=yy', { fasp_port: 1 }],
  ])('%s', (query, expected) => {
    expect(parseFaspUrl(`${BASE}?${query}`)).toMatchObject(expected);
  });

  it('leaves out ignored and unknown parameters', () => {
    const spec = parseFaspUrl(`${BASE}?auth=no&v=2&protect=x&bad=xx&tags=x`);
    expect(spec).toEqual({ direction: 'receive', remote_host: 'acme-faspex', remote_user: 'faspex', ssh_port: 33001, paths: [{ source: '/pkg' }] });
  });

  it('keeps trailing base64 padding at the very end of the query (Faspex 4 leaves it unencoded)', () => {
    expect(parseFaspUrl(`${BASE}?port=1&cookie=Y29va2ll==`).cookie).toBe('Y29va2ll==');
  });

  it('registers token and URL password for masking', () => {
    parseFaspUrl('faspe://u:pw-Secret-77@h/p?token=tok-Secret-88');
    expect(maskText('x pw-Secret-77 tok-Secret-88')).toBe('x *** ***');
  });
});

describe('parseFaspUrl: ascli test vector (§4.3)', () => {
  const VECTOR =
    'faspe://my_user_here:my_pass_here@host:33001/path?cookie=foo&token=foo&sshfp=foo&policy=foo&httpport=foo&targetrate=foo&minrate=foo&port=foo&bwcap=foo&enc=foo&tags64=ImZvbyIK&createpath=no&fallback=no&lockpolicy=no&lockminrate=yes&auth=foo&v=foo&protect=foo&bad=xx';

  it('is refused: ascli turns targetrate=foo into 0, we name every bad parameter', () => {
    const { message } = linkError(VECTOR);
    for (const name of ['targetrate', 'minrate', 'bwcap', 'port', 'httpport', 'policy', 'enc']) expect(message).toContain(name);
    expect(message).toMatch(/targetrate must be a whole number of kbit\/s \(0 or more\), got "foo"/);
    expect(message).not.toMatch(/\bbad\b|auth|protect/);
  });

  it('with valid numbers and enums gives ascli results (token, sshfp, tags, booleans)', () => {
    const fixed = VECTOR.replace('policy=foo', 'policy=fair')
      .replace(/(httpport|targetrate|minrate|port|bwcap)=foo/g, '$1=7')
      .replace('enc=foo', 'enc=aes128');
    expect(parseFaspUrl(fixed)).toEqual<TransferSpec>({
      direction: 'receive',
      remote_host: 'host',
      remote_user: 'my_user_here',
      ssh_port: 33001,
      paths: [{ source: '/path' }],
      cookie: 'foo',
      token: 'foo',
      sshfp: 'foo',
      rate_policy: 'fair',
      http_fallback_port: 7,
      target_rate_kbps: 7,
      min_rate_kbps: 7,
      fasp_port: 7,
      target_rate_cap_kbps: 7,
      cipher: 'aes-128',
      tags: 'foo',
      create_dir: false,
      http_fallback: false,
      lock_rate_policy: false,
      lock_min_rate: true,
    });
  });
});

describe('parseFaspUrl: a link without a user is refused (ascli: "Missing mandatory parameter: remote_user")', () => {
  it.each([
    ['host, port, path and query', 'faspe://host:33001/path?token=abcd&port=33001'],
    ['no port', 'faspe://acme-faspex/%2Fpackages%2Fa.aspera-package'],
    ['empty user before @', 'faspe://@host:33001/path'],
    ['empty user with a password', 'faspe://:pw-Only-55@host:33001/path'],
    ['fasp:// scheme', 'fasp://10.0.0.1:22/p?token=abcd'],
    ['IPv6 host', 'faspe://[2001:db8::1]:33001/p'],
    ['the Faspex 4 XML form with its user dropped', 'faspe://fx.example.com:33001/%2Fpackages%2Fabc.aspera-package%2FPKG%20-%20Q3?cookie=c&token=t&port=33001&policy=fair'],
  ])('%s', (_, url) => {
    const err = linkError(url);
    expect(err.message).toBe('FASP URL: the user is missing (remote_user): the link must be faspe://USER@host[:port]/path');
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('names the missing user beside the other faults, on one line', () => {
    expect(linkError('faspe://h:ssh/p?policy=foo').message).toBe('FASP URL: the user is missing (remote_user): the link must be faspe://USER@host[:port]/path; the SSH port (after the host) must be a port number from 1 to 65535, got "ssh"; policy must be one of low, fair, high, fixed, got "foo"');
  });

  it('a malformed user is reported as malformed, not as missing', () => {
    expect(linkError('faspe://%E0%A4%A@h/p').message).not.toMatch(/user is missing/);
  });
});

describe('parseFaspUrl: refused links name the part and the fault', () => {
  it.each<[string, string, RegExp]>([
    ['https scheme', 'https://h/p', /scheme "https" is not faspe or fasp/],
    ['no scheme', 'acme-faspex/p', /not a URL of the form/],
    ['empty', '', /not a URL/],
    ['missing host', 'faspe:///p?token=abcd', /host is missing/],
    ['missing host with user', 'faspe://u@:33001/p', /host is missing/],
    ['bad host', 'faspe://u@ho%73t/p', /host "ho%73t" is not a valid host name/],
    ['host starting with -', 'faspe://-oProxy/p', /host "-oProxy" is not a valid/],
    ['non-numeric SSH port', 'faspe://h:ssh/p', /SSH port .*got "ssh"/],
    ['SSH port too big', 'faspe://h:70000/p', /SSH port .*1 to 65535/],
    ['missing path', 'faspe://h?token=abcd', /package path is missing/],
    ['root path', 'faspe://h/', /package path is missing/],
    ['NUL in path', 'faspe://h/a%00b', /NUL/],
    ['malformed path encoding', 'faspe://h/a%zzb', /the path has malformed percent-encoding/],
    ['malformed user encoding', 'faspe://%E0%A4%A@h/p', /user name has malformed/],
    ['malformed value encoding', `${BASE}?sshfp=%E0%A4%A`, /the value of sshfp has malformed percent-encoding/],
    ['malformed key encoding', `${BASE}?%zz=1`, /a parameter name has malformed/],
    ['createpath=maybe', `${BASE}?createpath=maybe`, /createpath must be yes or no, got "maybe"/],
    ['fallback=force', `${BASE}?fallback=force`, /fallback must be yes or no/],
    ['lockpolicy=1', `${BASE}?lockpolicy=1`, /lockpolicy must be yes or no/],
    ['lockminrate empty', `${BASE}?lockminrate=`, /lockminrate must be yes or no, got ""/],
    ['policy=foo', `${BASE}?policy=foo`, /policy must be one of low, fair, high, fixed, got "foo"/],
    ['targetrate=foo', `${BASE}?targetrate=foo`, /targetrate must be a whole number of kbit\/s/],
    ['targetrate=-1', `${BASE}?targetrate=-1`, /targetrate .*got "-1"/],
    ['targetrate=1.5', `${BASE}?targetrate=1.5`, /targetrate .*got "1.5"/],
    ['targetrate=100M', `${BASE}?targetrate=100M`, /targetrate .*got "100M"/],
    ['targetrate empty', `${BASE}?targetrate`, /targetrate .*got ""/],
    ['targetrate unsafe integer', `${BASE}?targetrate=99999999999999999999`, /targetrate/],
    ['minrate=-5', `${BASE}?minrate=-5`, /minrate .*got "-5"/],
    ['bwcap=x', `${BASE}?bwcap=x`, /bwcap .*got "x"/],
    ['port=0', `${BASE}?port=0`, /port must be a port number from 1 to 65535, got "0"/],
    ['port=-1', `${BASE}?port=-1`, /port must be .*got "-1"/],
    ['port=65536', `${BASE}?port=65536`, /port must be .*got "65536"/],
    ['httpport=http', `${BASE}?httpport=http`, /httpport must be .*got "http"/],
    ['enc=foo', `${BASE}?enc=foo`, /enc "foo" is not a known cipher/],
    ['enc=aes512', `${BASE}?enc=aes512`, /enc "aes512" is not a known cipher/],
    ['enc=des', `${BASE}?enc=des`, /enc "des" is not a known cipher/],
    ['tags64 not base64', `${BASE}?tags64=not*base64`, /tags64 is not valid base64/],
    ['tags64 bad length', `${BASE}?tags64=abc`, /tags64 is not valid base64/],
    ['tags64 empty', `${BASE}?tags64=`, /tags64 is not valid base64/],
    ['tags64 not JSON', `${BASE}?tags64=${Buffer.from('{nope').toString('base64')}`, /tags64 does not decode to JSON/],
    ['repeated port, different values', `${BASE}?port=1&port=2`, /port is given more than once with different values/],
    ['two errors at once', `${BASE}?policy=foo&port=x`, /policy must be .*; port must be/],
  ])('%s', (_, url, pattern) => {
    const err = linkError(url);
    expect(err.message).toMatch(/^FASP URL: /);
    expect(err.message).toMatch(pattern);
  });

  it.each([
    ['two different tokens', `${BASE}?token=first-Tok-1111&token=second-Tok-2222`, 'token', ['first-Tok-1111', 'second-Tok-2222']],
    ['two different cookies', `${BASE}?cookie=first-Ck-1111&cookie=second-Ck-2222`, 'cookie', ['first-Ck-1111', 'second-Ck-2222']],
    ['token with bad encoding', `${BASE}?token=Tk-9999-%zz`, 'token', ['Tk-9999']],
  ])('%s: an error naming %s without its value', (_, url, name, values) => {
    const err = linkError(url);
    expect(err.message).toContain(name);
    for (const v of values) expect(err.message).not.toContain(v);
  });
});
