import { describe, expect, it } from 'vitest';
import { decodeProofpointV1, decodeProofpointV2, decodeProofpointV3, selectPackageLinks, unwrapOnce, unwrapUrl } from '../../src/mail/extract/index.js';
import { parseAllowlist } from '../../src/faspex/allowlist.js';

const TARGET = 'https://faspex.example.com/aspera/faspex/external_deliveries/7?passcode=1111222233334444555566667777888899990000&expiration=Zg==';
const enc = encodeURIComponent;

describe('Proofpoint v3 token substitution (email.md A2 samples)', () => {
  it('substitutes a lone * with one removed character', () => {
    const url = 'https://urldefense.com/v3/__https://github.com/owner/repo/pull/1175*discussion_r1130183899__;Iw!!ACWV5N9M2RV99hQ!abcDEF$';
    expect(decodeProofpointV3(url)).toBe('https://github.com/owner/repo/pull/1175#discussion_r1130183899');
  });
  it('percent-decodes before substituting, so a re-inserted %2F stays encoded', () => {
    const url = 'https://urldefense.com/v3/__https://outlook.office365.com/owa*2Findex.html*vicky@example.com__;JSM!!NLFGqXoFfo8MMQ!xyz$';
    expect(decodeProofpointV3(url)).toBe('https://outlook.office365.com/owa%2Findex.html#vicky@example.com');
  });
  it('expands **X runs (A = 2 characters)', () => {
    const removed = Buffer.from('&&').toString('base64url');
    expect(decodeProofpointV3(`https://urldefense.com/v3/__https://h.example/a**Ab__;${removed}!!c!d$`)).toBe('https://h.example/a&&b');
  });
  it('leaves the URL alone when nothing was removed', () => {
    expect(decodeProofpointV3('https://urldefense.com/v3/__https://h.example/a__;!!c!d$')).toBe('https://h.example/a');
  });
  it('refuses a token without a removed character', () => {
    expect(decodeProofpointV3('https://urldefense.com/v3/__https://h.example/a*b__;!!c!d$')).toBeUndefined();
  });
});

describe('Proofpoint v1 and v2', () => {
  it('v2: - is %, _ is /', () => {
    expect(decodeProofpointV2('https://urldefense.proofpoint.com/v2/url?u=http-3A__phishingsite.fake.ru_you_are_hacked.php&d=DwMFaQ&c=x&r=y&m=z&s=w&e=')).toBe(
      'http://phishingsite.fake.ru/you/are/hacked.php',
    );
  });
  it('v1: u up to &k=, entity-decoded', () => {
    expect(decodeProofpointV1(`https://urldefense.proofpoint.com/v1/url?u=${enc('https://h.example/a?x=1&amp;y=2')}&k=abc&r=d`)).toBe('https://h.example/a?x=1&y=2');
  });
});

describe('unwrapOnce', () => {
  const b64 = Buffer.from(TARGET).toString('base64');
  it.each([
    ['Safe Links', `https://nam12.safelinks.protection.outlook.com/?url=${enc(TARGET)}&data=05%7C01&sdata=x&reserved=0`],
    ['Azure email safe links', `https://emails.azure.microsoft.com/redirect/?destination=${enc(TARGET)}&p=abc`],
    ['Azure email safe links', `https://eu.safelink.emails.azure.net/redirect/?destination=${enc(TARGET)}`],
    ['Barracuda', `https://linkprotect.cudasvc.com/url?a=${enc(TARGET)}&c=E,1,abc&typo=1`],
    ['Cisco', `https://secure-web.cisco.com/1AbCdEf-token/${enc(TARGET)}`],
    ['Google', `https://www.google.com/url?q=${enc(TARGET)}&sa=D&source=editors&ust=1&usg=AOv`],
    ['Sophos', `https://eu-west-1.protection.sophos.com/?d=example.com&u=${enc(b64)}&i=abc&t=def&h=ghi`],
    ['Trend Micro', `https://imsva91-ctp.trendmicro.com/wis/clicktime/v1/query?url=${enc(TARGET)}&umid=abc`],
    ['FireEye', `https://protect2.fireeye.com/v1/url?k=abc&q=def&e=ghi&u=${enc(TARGET)}`],
    ['EsvaLabs', `https://urlsand.esvalabs.com/?u=${enc(TARGET)}&e=abc&h=def&t=ghi`],
    ['AWS SES', `https://abc123.r.us-east-1.awstrack.me/L0/${enc(TARGET)}/1/0100018e-abc/xyz=123`],
    ['Proofpoint v2', `https://urldefense.proofpoint.com/v2/url?u=${TARGET.replace(/%/g, '-25').replace(/:/g, '-3A').replace(/\?/g, '-3F').replace(/=/g, '-3D').replace(/&/g, '-26').replace(/_/g, '-5F').replace(/\//g, '_')}&d=DwMF&c=x&r=y&m=z&s=w&e=`],
    ['Proofpoint v3', `https://urldefense.com/v3/__${TARGET.replace('&', '*')}__;Jg!!cust!sig$`],
  ])('%s', (wrapper, wrapped) => {
    expect(unwrapOnce(wrapped)).toEqual({ kind: 'unwrapped', url: TARGET, wrapper });
  });

  it('recognises Mimecast as opaque, with its domain hint', () => {
    expect(unwrapOnce('https://protect-eu.mimecast.com/s/AbCd?domain=faspex.example.com')).toEqual({ kind: 'opaque', wrapper: 'Mimecast', domain: 'faspex.example.com' });
    expect(unwrapOnce('https://url.uk.m.mimecastprotect.com/s/AbCd')).toEqual({ kind: 'opaque', wrapper: 'Mimecast' });
  });

  it.each(['https://faspex.example.com/aspera/faspex/received/1', 'https://www.google.com/search?q=faspex', 'not a url', 'mailto:a@b.example'])('%s is not wrapped', (url) => {
    expect(unwrapOnce(url)).toEqual({ kind: 'none' });
  });
});

describe('unwrapUrl', () => {
  it('unwraps nested wrappers, outermost first', () => {
    const pp3 = `https://urldefense.com/v3/__${TARGET.replace('&', '*')}__;Jg!!cust!sig$`;
    const safe = `https://eur03.safelinks.protection.outlook.com/?url=${enc(pp3)}&data=x&reserved=0`;
    expect(unwrapUrl(safe)).toEqual({ url: TARGET, wrappers: ['Safe Links', 'Proofpoint v3'] });
  });
  it('stops after maxRounds', () => {
    let url = TARGET;
    for (let i = 0; i < 7; i++) url = `https://www.google.com/url?q=${enc(url)}`;
    expect(unwrapUrl(url).url).not.toBe(TARGET);
    expect(unwrapUrl(url, 7).url).toBe(TARGET);
  });
  it('reports Mimecast under another wrapper', () => {
    const safe = `https://nam12.safelinks.protection.outlook.com/?url=${enc('https://protect-us.mimecast.com/s/xyz?domain=faspex.example.com')}`;
    expect(unwrapUrl(safe).opaque).toEqual({ wrapper: 'Mimecast', domain: 'faspex.example.com' });
  });
});

describe('selectPackageLinks', () => {
  const allow = parseAllowlist('faspex.example.com');
  it.each([
    ['https://faspex.example.com/aspera/faspex/external/submissions/new?passcode=abcd1234abcd', []],
    ['https://faspex.example.com/aspera/faspex/login', []],
    ['https://www.ibm.com/products/aspera', []],
    ['https://faspex.example.com/aspera/faspex/external_deliveries/5', []],
    ['https://faspex.example.com/aspera/faspex/received/5#', ['https://faspex.example.com/aspera/faspex/received/5']],
    ['HTTPS://Faspex.Example.COM:443/aspera/faspex/received/5', ['https://faspex.example.com/aspera/faspex/received/5']],
  ])('%s', (candidate, urls) => {
    const { links, warnings } = selectPackageLinks([candidate], allow);
    expect(links.map((l) => l.url)).toEqual(urls);
    expect(warnings).toEqual([]);
  });
  it('ignores Mimecast links whose declared domain is not allowed', () => {
    expect(selectPackageLinks(['https://protect-eu.mimecast.com/s/x?domain=www.ibm.com'], allow).warnings).toEqual([]);
    expect(selectPackageLinks(['https://protect-eu.mimecast.com/s/x'], allow).warnings).toHaveLength(1);
  });
  it('checks FASP URLs by host', () => {
    const fasp = 'faspe://evil.example:33001/abc.aspera-package/x';
    expect(selectPackageLinks([fasp], allow).warnings[0]).toContain('evil.example');
  });
});
