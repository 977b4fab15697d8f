/**
 * Issue 23 item 5: each gateway's target decoded exactly as that gateway encodes it. Google's
 * redirects (`/url?q=…&sa=D&source=editors&ust=…`) leave the target's `:/?` raw and encode its
 * `=`, `&`, `+` and `%`: read as "put in verbatim", the link lost its passcode (`?passcode%3D…`)
 * and the mail was recorded "link damaged". The same class was tried on every gateway
 * (faspex-links.ts NATIVE_WRAPPERS). The precision rule holds throughout: the exact link, byte
 * for byte, or none.
 */
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { decideMail } from '../../src/mail/decide.js';
import { extractPackageLinks, selectPackageLinks, unwrapUrl } from '../../src/mail/extract/index.js';
import { faspex5Link, SAMPLE_LINKS, SAMPLE_PASSCODE, googleEncoded, NATIVE_WRAPPERS, VERBATIM_WRAPPERS, WRAPPERS } from '../support/faspex-links.js';

const ALLOW = parseAllowlist('faspex.example.com, faspex5.example.com');
const P = SAMPLE_PASSCODE;
const { F4X, F4XE, F4R, F5, F5R } = SAMPLE_LINKS;
const TARGETS: Array<[string, string]> = [['Faspex 4 external', F4X], ['Faspex 4 + expiration', F4XE], ['Faspex 4 received', F4R], ['Faspex 5 context', F5], ['Faspex 5 context + redirected', F5R]];

function mail(body: string, type = 'text/plain; charset=utf-8'): Buffer {
  return Buffer.from(['From: a@b.example', 'Subject: fwd', 'MIME-Version: 1.0', `Content-Type: ${type}`, 'Content-Transfer-Encoding: 8bit', '', body, ''].join('\r\n'));
}
const urls = async (raw: Buffer) => (await extractPackageLinks(await simpleParser(raw), { allowlist: ALLOW })).links.map((l) => l.url);

describe("Google's redirect, as Google writes it", () => {
  it('the case of the issue: passcode and expiration encoded once inside q', async () => {
    const wrapped = `https://www.google.com/url?q=https://faspex.example.com/aspera/faspex/external_deliveries/4823?passcode%3D${P}%26expiration%3DMjAyOS0wNi0xNlQwODozMjozN1o%253D&sa=D&source=editors&ust=1700000000000000&usg=AOvVaw0`;
    const link = `https://faspex.example.com/aspera/faspex/external_deliveries/4823?passcode=${P}&expiration=MjAyOS0wNi0xNlQwODozMjozN1o%3D`;
    expect(unwrapUrl(wrapped)).toEqual({ url: link, wrappers: ['Google'] });
    const decision = await decideMail(mail(`Download Package <${wrapped}>\n`), { allowlist: ALLOW });
    expect(decision.reason).toBeUndefined();
    expect(decision.kind).toBe('links');
    expect(decision.links.map((l) => l.url)).toEqual([link]);
    expect(decision.links[0]!.passcode).toBe(P);
  });

  it("a Faspex 5 context's own %2B arrives as %252B and comes back as %2B, not +", () => {
    const wrapped = NATIVE_WRAPPERS['Google, as Google writes it']!(F5);
    expect(wrapped).toContain('%252B');
    const [link] = selectPackageLinks([wrapped], ALLOW).links;
    expect(link?.url).toBe(F5);
    expect(link?.context).toBe(decodeURIComponent(F5.split('context=')[1]!));
  });

  it('a target put in verbatim (its own = still raw) keeps its own %XX', () => {
    const wrapped = VERBATIM_WRAPPERS['Google, verbatim']!(F5);
    expect(selectPackageLinks([wrapped], ALLOW).links.map((l) => l.url)).toEqual([F5]);
  });
});

describe('every gateway, as it encodes its target', () => {
  const cases = Object.entries(NATIVE_WRAPPERS).flatMap(([w, wrap]) => TARGETS.map(([t, link]) => [`${w} around ${t}`, wrap(link), link] as const));
  it.each(cases)('%s', async (_name, wrapped, link) => {
    expect(selectPackageLinks([wrapped], ALLOW).links.map((l) => l.url)).toEqual([link]);
    expect(await urls(mail(`<a href="${wrapped.replace(/&/g, '&amp;')}">Download Package</a>`, 'text/html; charset=utf-8'))).toEqual([link]);
    expect(await urls(mail(`Download Package <${wrapped}>\n`))).toEqual([link]);
  });

  const NESTED: Array<[string, string, string]> = [
    ['Safe Links around Google as Google writes it', WRAPPERS['Safe Links']!(NATIVE_WRAPPERS['Google, as Google writes it']!(F5R)), F5R],
    ['Google as Google writes it around Safe Links', NATIVE_WRAPPERS['Google, as Google writes it']!(WRAPPERS['Safe Links']!(F4XE)), F4XE],
    ['Google as Google writes it around Proofpoint v3', NATIVE_WRAPPERS['Google, as Google writes it']!(WRAPPERS['Proofpoint v3']!(F5)), F5],
    ['Proofpoint v2 around raw Sophos', WRAPPERS['Proofpoint v2']!(NATIVE_WRAPPERS['Sophos, base64 raw']!(F5)), F5],
    ['Google as Google writes it, twice', NATIVE_WRAPPERS['Google, as Google writes it']!(NATIVE_WRAPPERS['Google, as Google writes it']!(F4X)), F4X],
  ];
  it.each(NESTED)('%s', (_name, wrapped, link) => {
    expect(selectPackageLinks([wrapped], ALLOW).links.map((l) => l.url)).toEqual([link]);
  });

  it("Sophos: a raw + in the base64 is base64's +, not a space", () => {
    // base64 of ASCII has a + only where a '~' (or '>') ends a 3-byte group: one of these three
    // alignments of an unreserved '~' in an extra parameter gives one (an unbounded search over
    // contexts alone never ends: the link is otherwise free of both)
    const link = ['&lang=~', '&lang=e~', '&lang=en~']
      .map((extra) => faspex5Link('faspex5.example.com', '9f3', P, 0, extra))
      .find((l) => Buffer.from(l).toString('base64').includes('+'))!;
    const wrapped = NATIVE_WRAPPERS['Sophos, base64 raw']!(link);
    expect(/[?&]u=[^&]*\+/.test(wrapped)).toBe(true);
    expect(unwrapUrl(wrapped).url).toBe(link);
    expect(selectPackageLinks([wrapped], ALLOW).links.map((l) => l.url)).toEqual([link]);
  });
});

describe('precision: nothing but the server’s own link is queued', () => {
  it('a Google redirect to a host outside the allowlist queues nothing', async () => {
    const other = F4X.replace('faspex.example.com', 'faspex.evil.example');
    const decision = await decideMail(mail(`<${NATIVE_WRAPPERS['Google, as Google writes it']!(other)}>\n`), { allowlist: ALLOW });
    expect(decision.links).toEqual([]);
    expect(decision.kind).not.toBe('links');
  });

  it('decoded once, not twice: a target encoded twice by its sender is not "repaired" into another link', () => {
    // q holds googleEncoded(googleEncoded(link)): one decode gives a link whose passcode is still encoded
    const wrapped = `https://www.google.com/url?q=${googleEncoded(googleEncoded(F4X))}&sa=D`;
    expect(unwrapUrl(wrapped).url).toBe(googleEncoded(F4X));
    expect(selectPackageLinks([wrapped], ALLOW).links).toEqual([]);
  });

  it('a cut Google redirect (its passcode short) is damaged, never queued', () => {
    const wrapped = NATIVE_WRAPPERS['Google, as Google writes it']!(F4X.slice(0, -5));
    const got = selectPackageLinks([wrapped], ALLOW);
    expect(got.links).toEqual([]);
    expect(got.damaged.join()).toMatch(/cut short/);
  });

  it('a Sophos u that is not base64 of a URL gives nothing', () => {
    expect(unwrapUrl('https://eu-west-1.protection.sophos.com/?d=example.com&u=%%%&i=1').wrappers).toEqual([]);
    expect(unwrapUrl(`https://eu-west-1.protection.sophos.com/?d=example.com&u=${Buffer.from('\u0001\u0002binary').toString('base64')}&i=1`).wrappers).toEqual([]);
  });
});
