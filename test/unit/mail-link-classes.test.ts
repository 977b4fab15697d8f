/**
 * The four ways extraction went wrong (issue 15), each with many shapes: a character that cannot
 * be part of a URL taken into it; a link broken by `> ` quoting when a whole copy is elsewhere;
 * a gateway around a Faspex 5 link whose context holds percent-encoded `+ / =`; a hard-wrapped
 * text-only link. The rule throughout: the exact link, byte for byte, or none, never a cut one.
 */
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { extractPackageLinks, selectPackageLinks, urlsFromText } from '../../src/mail/extract/index.js';
import { decideMail } from '../../src/mail/decide.js';
import { faspex4External, faspex4Received, SAMPLE_LINKS, SAMPLE_PASSCODE, VERBATIM_WRAPPERS, WRAPPERS } from '../support/faspex-links.js';

const ALLOW = parseAllowlist('faspex.example.com, faspex5.example.com, fx.example.org:8443');
const P = SAMPLE_PASSCODE;
const { F4X, F4XE, F4R, F5, F5R } = SAMPLE_LINKS;
const F4PORT = faspex4External('fx.example.org:8443', 77, P.replace('c0ffee', 'beef00'));
const LINKS: Array<[string, string]> = [['Faspex 4 external', F4X], ['Faspex 4 external + expiration', F4XE], ['Faspex 4 received', F4R], ['Faspex 5 public', F5], ['Faspex 5 public + redirected', F5R], ['Faspex 4 on a port', F4PORT]];

function mail(body: string, headers: string[] = [], type = 'text/plain; charset=utf-8'): Buffer {
  return Buffer.from([`From: a@b.example`, 'Subject: fwd', 'MIME-Version: 1.0', ...headers, `Content-Type: ${type}`, 'Content-Transfer-Encoding: 8bit', '', body, ''].join('\r\n'));
}
const extract = async (raw: Buffer) => extractPackageLinks(await simpleParser(raw), { allowlist: ALLOW });
const urls = async (raw: Buffer) => (await extract(raw)).links.map((l) => l.url);

describe('1. a character that cannot be part of a URL ends it', () => {
  const AFTER = ['👈', '👉🏽', '✅', '🙂', '」', '』', '。', '、', '，', '！', '？', '：', '）', '】', '〉', '》', '〕', '｝', '›', '»', '⟩', '❯', '⸩', '\u200b', '\u00a0', '\u3000', 'ー', '下载', 'ダウンロード', 'é', 'Ω', '→', '—', '…'];
  const SHAPES: Array<[string, (link: string, c: string) => string]> = [
    ['then text', (l, c) => `Here: ${l}${c} thanks`],
    ['at the end of the line', (l, c) => `Here: ${l}${c}\nBye`],
    ['in a CJK sentence', (l, c) => `请点击链接下载：${l}${c}谢谢。`],
    ['opened by the matching bracket', (l, c) => `「${l}${c}`],
    ['in a quoted reply', (l, c) => `> ${l}${c}\n> more`],
  ];
  const cases = LINKS.flatMap(([name, link]) => AFTER.map((c) => [`${name} + ${JSON.stringify(c)}`, c, link] as const));
  it.each(cases)('%s, in every shape', (_name, c, link) => {
    for (const [shape, make] of SHAPES) {
      const text = make(link, c);
      expect(urlsFromText(text), shape).toEqual([link]);
      expect(selectPackageLinks(urlsFromText(text), ALLOW).links.map((l) => l.url), shape).toEqual([link]);
    }
  });

  it.each(LINKS)('in a whole mail (UTF-8 text and an HTML text node): %s', async (_name, link) => {
    expect(await urls(mail(`Download 👉 ${link}👈 and enjoy」。`))).toEqual([link]);
    expect(await urls(mail(`<p>下载：${link}」。</p>`, [], 'text/html; charset=utf-8'))).toEqual([link]);
  });

  it('an internationalised host in its own script stays one URL (only the host may be non-ASCII)', () => {
    expect(urlsFromText('see https://bücher.example/path」 and https://例え.jp/x。')).toEqual(['https://bücher.example/path', 'https://例え.jp/x']);
  });
});

/** `text` re-quoted the way a client rewraps a forward: every line prefixed, cut at `width`. */
function quoteWrapped(text: string, prefix: string, width: number): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let rest = line;
    do {
      out.push(prefix + rest.slice(0, width - prefix.length));
      rest = rest.slice(width - prefix.length);
    } while (rest.length > 0);
  }
  return out.join('\n');
}

describe('2. a link broken by > quoting: the whole copy elsewhere in the mail wins', () => {
  const BROKEN: Array<[string, string, number]> = [
    ['> , 72 columns', '> ', 72],
    ['>, 60 columns', '>', 60],
    ['> > , 76 columns', '> > ', 76],
    ['>> , 66 columns', '>> ', 66],
    ['> , 50 columns', '> ', 50],
  ];
  // where the intact copy is
  const ELSEWHERE: Array<[string, (broken: string, link: string) => Buffer]> = [
    ['an older quoted copy below', (b, l) => mail(`Please fetch this.\n\n${b}\n\n-- older --\n>> Download it here:\n>> ${l}\n`)],
    ['an older quoted copy above', (b, l) => mail(`Original:\n>> ${l}\n\nForwarded again:\n${b}\n`)],
    ['the HTML part', (b, l) => {
      const boundary = 'alt-b';
      return mail([`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', b, `--${boundary}`, 'Content-Type: text/html; charset=utf-8', '', `<blockquote><a href="${l.replace(/&/g, '&amp;')}">Download</a></blockquote>`, `--${boundary}--`].join('\r\n'), [], `multipart/alternative; boundary="${boundary}"`);
    }],
    ['an attached message', (b, l) => {
      const boundary = 'mix-b';
      return mail([`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', b, `--${boundary}`, 'Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="orig.eml"', '', 'From: faspex@faspex.example.com', 'Subject: Package received', 'Content-Type: text/plain', '', `Download: ${l}`, `--${boundary}--`].join('\r\n'), [], `multipart/mixed; boundary="${boundary}"`);
    }],
  ];
  const LONG = LINKS.filter(([name]) => name !== 'Faspex 4 received');
  // the break falls inside the secret (passcode, expiration, context), 3 to 45 characters from the end
  const CUTS = [3, 9, 17, 30, 45];
  const PREFIXES = ['> ', '>', '> > ', '>> '];
  const cases = LONG.flatMap(([name, link]) => CUTS.flatMap((cut) => PREFIXES.flatMap((prefix) => ELSEWHERE.map(([where, build]) => [`${name}, cut ${cut} from the end, quoted ${JSON.stringify(prefix)}, whole copy in ${where}`, prefix, link.length - cut, build, link] as const))));
  it.each(cases)('%s', async (_name, prefix, at, build, link) => {
    // the continuation indented, as some clients rewrap: the quoted copy stays cut
    const broken = `${prefix}Download it here:\n${prefix}${link.slice(0, at)}\n${prefix}  ${link.slice(at)}\n${prefix}\n${prefix}Thanks`;
    expect(await urls(build(broken, link))).toEqual([link]);
  });

  it.each(LONG.flatMap(([name, link]) => BROKEN.map(([q, prefix, width]) => [`${name}, quoted ${q}`, prefix, width, link] as const)))('with no other copy, the quoted lines are joined back: %s', async (_n, prefix, width, link) => {
    expect(await urls(mail(`FYI\n\n${quoteWrapped(`Download it here: ${link}`, prefix, width)}\n${prefix}\n${prefix}Thanks, Ann\n`))).toEqual([link]);
  });

  it('the cut copy coming first (the reply quotes it above the original) still loses', async () => {
    const cut = F4X.slice(0, F4X.length - 9);
    expect(await urls(mail(`> Download it here: ${cut}\n>\n> (rest lost)\n\n>> ${F4X}\n`))).toEqual([F4X]);
  });
});

describe('3. gateways around a Faspex 5 link whose context holds percent-encoded + / =', () => {
  it('the contexts used here do hold all three', () => {
    for (const link of [F5, F5R]) for (const encoded of ['%2B', '%2F', '%3D']) expect(link).toContain(encoded);
  });
  const TARGETS: Array<[string, string]> = [['context only', F5], ['context + redirected', F5R], ['Faspex 4 external', F4X], ['Faspex 4 + expiration', F4XE]];
  const ONCE = Object.entries(WRAPPERS).flatMap(([w, wrap]) => TARGETS.map(([t, link]) => [`${w} around ${t}`, wrap(link), link] as const));
  const NESTED = [
    ['Safe Links around Proofpoint v3', WRAPPERS['Safe Links']!(WRAPPERS['Proofpoint v3']!(F5)), F5],
    ['Safe Links around Google', WRAPPERS['Safe Links']!(WRAPPERS.Google!(F5R)), F5R],
    ['Proofpoint v2 around Barracuda', WRAPPERS['Proofpoint v2']!(WRAPPERS.Barracuda!(F5)), F5],
    ['Google around Sophos around Cisco', WRAPPERS.Google!(WRAPPERS.Sophos!(WRAPPERS.Cisco!(F5))), F5],
    ['Google verbatim around nothing else', VERBATIM_WRAPPERS['Google, verbatim']!(F5), F5],
  ] as const;
  const VERBATIM = Object.entries(VERBATIM_WRAPPERS).flatMap(([w, wrap]) => [[`${w} around context only`, wrap(F5), F5], [`${w} around Faspex 4 external`, wrap(F4X), F4X]] as const);
  it.each([...ONCE, ...NESTED, ...VERBATIM])('%s', async (_name, wrapped, link) => {
    expect(selectPackageLinks([wrapped], ALLOW).links.map((l) => l.url)).toEqual([link]);
    // and from a mail: the HTML href, and the text part
    expect(await urls(mail(`<a href="${wrapped.replace(/&/g, '&amp;')}">Download Package</a>`, [], 'text/html; charset=utf-8'))).toEqual([link]);
    expect(await urls(mail(`Download Package <${wrapped}>\n`))).toEqual([link]);
  });

  it('a + left raw in a context is a base64 +, not a space', () => {
    const raw = F5.replace(/%2B/g, '+').replace(/%2F/g, '/').replace(/%3D/g, '=');
    const [link] = selectPackageLinks([raw], ALLOW).links;
    expect(link?.url).toBe(raw);
    expect(link?.context).toBe(decodeURIComponent(F5.split('context=')[1]!));
  });
});

/** `text` hard-wrapped at `width` with no marker: long words (URLs) cut mid-way. */
function hardWrap(text: string, width: number): string {
  return text.split('\n').flatMap((line) => line.match(new RegExp(`.{1,${width}}`, 'g')) ?? ['']).join('\n');
}

describe('4. a text-only link hard-wrapped without a marker: the whole link or none', () => {
  const AFTER: Array<[string, string]> = [
    ['a blank line', '\n\nBest,\nBob'],
    ['prose on the next line', '\nBest regards, Bob'],
    ['a line starting with digits', '\n2 files, 1.5 MB'],
    ['a line starting with a slash', '\n/ see above'],
    ['a line starting with &', '\n&more to come'],
    ['a sentence end', '.\nThanks'],
    ['another link', `\nhttps://www.example.org/help`],
  ];
  const cases = LINKS.flatMap(([name, link]) =>
    [40, 47, 53, 60, 64, 70, 72, 76, 78, 80, 100].flatMap((width) => AFTER.map(([after, tail]) => [`${name}, width ${width}, then ${after}`, hardWrap(`Download it here: ${link}${tail}`, width), link] as const)),
  );
  it.each(cases)('%s', async (_name, body, link) => {
    const got = await urls(mail(body));
    expect(got.every((u) => u === link), `got ${got.join(' ')}`).toBe(true);
    const decision = await decideMail(mail(body), { allowlist: ALLOW });
    if (decision.kind !== 'links') expect(decision).toMatchObject({ kind: 'damaged', reason: expect.stringMatching(/^link damaged: /) });
  });

  it('the formats make the long links come back whole: Faspex 4 external and Faspex 5 at every width', async () => {
    for (const link of [F4X, F4XE, F5, F5R]) {
      for (let width = 40; width <= 100; width++) expect(await urls(mail(hardWrap(`Download it here: ${link}\n\nBest,\nBob`, width)))).toEqual([link]);
    }
  });

  it('a cut passcode with nothing to join is damaged, never queued', async () => {
    const cut = F4X.slice(0, -10);
    const d = await decideMail(mail(`Download it here: ${cut}\n\nBest`), { allowlist: ALLOW });
    expect(d).toMatchObject({ kind: 'damaged', links: [], reason: 'link damaged: a Faspex 4 link to faspex.example.com is damaged: its passcode is cut short (30 of 40 hex digits); forward the original notification as an attachment or paste the whole link' });
    expect(d.reason).not.toContain(P.slice(0, 30));
  });

  it('a received link whose next line could continue it cannot be told apart: damaged', async () => {
    const d = await decideMail(mail(hardWrap(`To view the package you received, go to ${F4R.slice(0, -2)}\n${F4R.slice(-2)}`, 200)), { allowlist: ALLOW });
    expect(d.kind).toBe('damaged');
    expect(d.reason).toMatch(/runs to the end of a line and may go on on the next one/);
  });
});

describe('precision over recall: whole beats cut, and cut alone is damaged', () => {
  const cut = (link: string, n: number) => link.slice(0, link.length - n);
  it.each([
    ['cut passcode first, whole second', [cut(F4X, 5), F4X], [F4X]],
    ['whole first, cut second', [F4X, cut(F4X, 5)], [F4X]],
    ['expiration cut, whole elsewhere', [cut(F4XE, 8), F4XE], [F4XE]],
    ['context cut, whole elsewhere', [cut(F5, 30), F5], [F5]],
    ['padding lost, whole elsewhere', [F5.replace(/%3D$/, ''), F5], [F5]],
    ['passcode with text joined on, whole elsewhere', [`${F4X}Thanks`, F4X], [F4X]],
    ['two whole packages', [F4X, F5], [F4X, F5]],
    ['a cut copy of another package is reported, the whole one queued', [cut(faspex4External('faspex.example.com', 9, P), 3), F5], [F5]],
  ])('%s', (_name, candidates, expected) => {
    expect(selectPackageLinks(candidates, ALLOW).links.map((l) => l.url)).toEqual(expected);
  });

  it.each([
    ['passcode cut', cut(F4X, 1), /its passcode is cut short \(39 of 40 hex digits\)/],
    ['passcode missing', F4X.replace(/\?.*$/, ''), /its passcode is missing/],
    ['passcode empty', F4X.replace(/passcode=.*$/, 'passcode='), /its passcode is missing/],
    ['passcode runs on', `${F4X}abc`, /runs on past its 40 hex digits/],
    ['expiration cut', cut(F4XE, 10), /its expiration is cut short/],
    ['context cut', cut(F5, 40), /its context cannot be read/],
    ['context with text after it', `${F5}Regards`, /its context is not whole base64/],
  ])('alone, %s: damaged with its reason, no link', (_name, candidate, reason) => {
    const s = selectPackageLinks([candidate], ALLOW);
    expect(s.links).toEqual([]);
    expect(s.damaged).toHaveLength(1);
    expect(s.damaged[0]).toMatch(reason);
    expect(s.damaged[0]).not.toMatch(/passcode=|context=/);
  });

  it('a link that may go on on the next line is settled by another copy in the mail, either way', () => {
    const long = faspex4Received('faspex.example.com', 404412);
    const short = faspex4Received('faspex.example.com', 4044);
    const ambiguous = { readings: [short, long] };
    expect(selectPackageLinks([ambiguous], ALLOW)).toMatchObject({ links: [], damaged: [expect.stringMatching(/may go on on the next one/)] });
    expect(selectPackageLinks([long, ambiguous], ALLOW)).toMatchObject({ links: [{ url: long }], damaged: [] });
    expect(selectPackageLinks([ambiguous, short], ALLOW)).toMatchObject({ links: [{ url: short }], damaged: [] });
  });

  it('a damaged link to a host that is not allowed is noise, not damage', () => {
    expect(selectPackageLinks([cut(faspex4External('evil.example', 1, P), 4)], ALLOW)).toEqual({ links: [], warnings: [], damaged: [] });
  });

  it('a passcode that is not in Faspex 4 format is taken as it is when alone (it cannot be checked)', () => {
    const odd = faspex4External('faspex.example.com', 5, 'pcgood-abc-0123456789abcdef');
    expect(selectPackageLinks([odd], ALLOW).links.map((l) => l.url)).toEqual([odd]);
  });
});

describe('found by the generated mails: a URL only written (not linked) in the HTML of a mail with an attachment', () => {
  // mailparser makes no text of that HTML, so the URL was never scanned
  it.each(LINKS)('%s', async (_name, link) => {
    const boundary = 'mix-h';
    const raw = mail(
      [`--${boundary}`, 'Content-Type: text/html; charset=utf-8', '', `<html><body><pre>Download it here: ${link.replace(/&/g, '&amp;')}</pre><p>Best regards</p></body></html>`, `--${boundary}`, 'Content-Type: application/pdf', 'Content-Disposition: attachment; filename="a.pdf"', 'Content-Transfer-Encoding: base64', '', 'JVBERi0=', `--${boundary}--`].join('\r\n'),
      [],
      `multipart/mixed; boundary="${boundary}"`,
    );
    expect(await urls(raw)).toEqual([link]);
  });
});
