/**
 * Notification mails built from parts, for the property "the extractor returns exactly the links
 * put in, no more, no fewer, byte for byte" (test/unit/mail-generated.test.ts and
 * scripts/generated-mail.ts). Each mail announces 1-3 packages (Faspex 4 external with or without
 * expiration, Faspex 4 received, Faspex 5 public with or without `&redirected=true`), each shown
 * one or more times: as an HTML button, a bare or `<...>` text URL, behind one or two gateway
 * wrappers (every one unwrap.ts knows, some filled verbatim), next to punctuation and emoji,
 * hard-wrapped at 50-100 columns, quoted once or twice with `> `, in an inline forward, and in
 * a forward attached as message/rfc822. Bodies are text, HTML or both, in UTF-8, ISO-8859-1,
 * Shift_JIS or Windows-1252 (iconv-lite, which mailparser brings), as quoted-printable, base64
 * or 8bit.
 */
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { faspex4External, faspex4Received, faspex5Link, NATIVE_WRAPPERS, VERBATIM_WRAPPERS, WRAPPERS } from './faspex-links.js';

export const GENERATED_ALLOWED = 'faspex.example.com, faspex5.example.com, fx.example.org:8443';

export type Charset = 'utf-8' | 'iso-8859-1' | 'shift_jis' | 'windows-1252';
export type Encoding = 'quoted-printable' | 'base64' | '8bit';

/** What may stand right after a link, per charset (a charset cannot carry every character). */
const AFTER: Record<Charset, readonly string[]> = {
  'utf-8': ['', '.', ',', ')', '!', ';', ':', '?', '"', "'", '👈', '👉🏽', '✅', '」', '』', '。', '、', '）', '】', '》', '›', '»', '\u00a0', '\u3000', '下载'],
  'shift_jis': ['', '.', ',', ')', '!', '」', '』', '。', '、', '）', '】', '》', '\u3000'],
  'iso-8859-1': ['', '.', ',', ')', '!', '»', '\u00a0', 'é'],
  'windows-1252': ['', '.', ',', ')', '!', '»', '›', '…', '—', '\u00a0'],
};
const BEFORE: Record<Charset, readonly string[]> = {
  'utf-8': ['', ' ', '(', '「', '👉 ', '→ ', '«'],
  'shift_jis': ['', ' ', '(', '「', '→ '],
  'iso-8859-1': ['', ' ', '(', '«'],
  'windows-1252': ['', ' ', '(', '«', '‹'],
};
const PROSE: Record<Charset, readonly string[]> = {
  'utf-8': ['You received the package Q3 report.', 'Größe: 1.5 MB in 3 Dateien.', 'パッケージを受信しました。', 'Thanks, Ann 🙂', 'Best regards'],
  'shift_jis': ['You received the package Q3 report.', 'パッケージを受信しました。', 'Best regards'],
  'iso-8859-1': ['You received the package Q3 report.', 'Größe: 1.5 MB, reçu à midi.', 'Best regards'],
  'windows-1252': ['You received the package Q3 report.', 'Größe: 1.5 MB — “Q3”.', 'Best regards'],
};

export interface PackageSpec {
  link: string;
  /** the link may be hard-wrapped in text: its format tells a cut (verifiable kinds only) */
  checkable: boolean;
  /** a single query parameter: may be put verbatim into a wrapper */
  singleParam: boolean;
}

const hex40 = fc.stringMatching(/^[0-9a-f]{40}$/);
const timestamp = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2035-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z'));

const packageArb: fc.Arbitrary<PackageSpec> = fc.oneof(
  fc.record({ id: fc.integer({ min: 1, max: 999_999 }), passcode: hex40, exp: fc.option(timestamp, { nil: undefined }), port: fc.boolean() }).map(({ id, passcode, exp, port }) => ({
    link: faspex4External(port ? 'fx.example.org:8443' : 'faspex.example.com', id, passcode, exp),
    checkable: true,
    singleParam: !exp,
  })),
  fc.integer({ min: 1, max: 999_999 }).map((id) => ({ link: faspex4Received('faspex.example.com', id), checkable: false, singleParam: true })),
  fc.record({ id: fc.stringMatching(/^[A-Za-z0-9]{1,12}$/), passcode: hex40, salt: fc.nat(40), redirected: fc.boolean() }).map(({ id, passcode, salt, redirected }) => ({
    link: faspex5Link('faspex5.example.com', id, passcode, salt, redirected ? '&redirected=true' : ''),
    checkable: true,
    singleParam: !redirected,
  })),
);

export type Place = 'html' | 'text' | 'angle' | 'wrapped' | 'quoted' | 'quoted2' | 'forward' | 'attached';

export interface Copy {
  pkg: number;
  place: Place;
  wrappers: string[];
  before: number;
  after: number;
  width: number;
}

export interface MailSpec {
  packages: PackageSpec[];
  copies: Copy[];
  body: 'text' | 'html' | 'both';
  charset: Charset;
  encoding: Encoding;
  innerCharset: Charset;
  innerEncoding: Encoding;
  prose: number[];
}

const WRAPPER_NAMES = [...Object.keys(WRAPPERS), ...Object.keys(NATIVE_WRAPPERS)];
const VERBATIM_NAMES = Object.keys(VERBATIM_WRAPPERS);

export const mailSpecArb: fc.Arbitrary<MailSpec> = fc
  .record({
    packages: fc.uniqueArray(packageArb, { minLength: 1, maxLength: 3, selector: (p) => p.link.replace(/\?.*$/, '') }),
    copies: fc.array(
      fc.record({
        place: fc.constantFrom<Place>('html', 'text', 'angle', 'wrapped', 'quoted', 'quoted2', 'forward', 'attached'),
        wrapperCount: fc.constantFrom(0, 0, 1, 1, 2),
        wrappers: fc.array(fc.constantFrom(...WRAPPER_NAMES, ...VERBATIM_NAMES), { minLength: 2, maxLength: 2 }),
        before: fc.nat(20),
        after: fc.nat(40),
        width: fc.integer({ min: 50, max: 100 }),
        pkg: fc.nat(2),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    body: fc.constantFrom<MailSpec['body']>('text', 'html', 'both'),
    charset: fc.constantFrom<Charset>('utf-8', 'iso-8859-1', 'shift_jis', 'windows-1252'),
    encoding: fc.constantFrom<Encoding>('quoted-printable', 'base64', '8bit'),
    innerCharset: fc.constantFrom<Charset>('utf-8', 'iso-8859-1', 'shift_jis', 'windows-1252'),
    innerEncoding: fc.constantFrom<Encoding>('quoted-printable', 'base64', '8bit'),
    prose: fc.array(fc.nat(10), { minLength: 3, maxLength: 6 }),
  })
  .map(({ packages, copies, ...rest }) => ({
    ...rest,
    packages,
    copies: [
      // every package at least once
      ...packages.map((_, i) => ({ pkg: i, place: 'text' as Place, wrappers: [], before: 0, after: 0, width: 80 })),
      ...copies.map((c) => ({ pkg: c.pkg % packages.length, place: c.place, wrappers: c.wrappers.slice(0, c.wrapperCount), before: c.before, after: c.after, width: c.width })),
    ],
  }))
  .map((spec) => ({ ...spec, copies: spec.copies.map((c) => legal(spec, c)) }));

/** Keeps a copy to what can be put in a mail and read back exactly. */
function legal(spec: { packages: PackageSpec[] }, copy: Copy): Copy {
  const pkg = spec.packages[copy.pkg]!;
  // a verbatim wrapper can only hold a link with one parameter (its & would end the wrapper's)
  const wrappers = copy.wrappers.filter((w, i) => !(w in VERBATIM_WRAPPERS) || (i === copy.wrappers.length - 1 && pkg.singleParam));
  // a hard wrap is read back only where the format shows a cut: a bare, checkable link
  const place = copy.place === 'wrapped' && (!pkg.checkable || wrappers.length > 0) ? 'text' : copy.place;
  return { ...copy, wrappers, place };
}

function presented(spec: MailSpec, copy: Copy, charset: Charset): string {
  let url = spec.packages[copy.pkg]!.link;
  for (const w of copy.wrappers) url = (WRAPPERS[w] ?? NATIVE_WRAPPERS[w] ?? VERBATIM_WRAPPERS[w]!)(url);
  const before = pick(BEFORE[charset], copy.before);
  const after = pick(AFTER[charset], copy.after);
  return `${before}${url}${after}`;
}

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length]!;

/** `text` cut into lines of `width`, no marker (a client's hard wrap). */
function hardWrap(text: string, width: number): string {
  return text.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');
}

interface Parts {
  text: string[];
  html: string[];
  attached: string[];
}

function parts(spec: MailSpec, charset: Charset): Parts {
  const out: Parts = { text: [], html: [], attached: [] };
  const prose = (i: number) => pick(PROSE[charset], spec.prose[i % spec.prose.length]!);
  for (const [i, copy] of spec.copies.entries()) {
    const shown = presented(spec, copy, charset);
    const url = shown.slice(pick(BEFORE[charset], copy.before).length, shown.length - pick(AFTER[charset], copy.after).length);
    switch (copy.place) {
      case 'html':
        out.html.push(`<p>${escapeHtml(prose(i))}</p><p><a href="${escapeHtml(url)}" style="color:#fff">Download Package</a></p>`);
        break;
      case 'text':
        out.text.push(`${prose(i)}\nDownload it here: ${shown}\n`);
        break;
      case 'angle':
        out.text.push(`Download Package<${url}>\n${prose(i)}\n`);
        break;
      case 'wrapped':
        out.text.push(`${hardWrap(`Download it here: ${shown}`, copy.width)}\n\n${prose(i)}\n`);
        break;
      case 'quoted':
        out.text.push(`On Fri, Ann wrote:\n> ${prose(i)}\n> Download it here: ${shown}\n>\n`);
        break;
      case 'quoted2':
        out.text.push(`>> ${prose(i)}\n>> ${shown}\n>>\n> ${prose(i + 1)}\n`);
        break;
      case 'forward':
        out.text.push(`---------- Forwarded message ---------\nFrom: Faspex <faspex@faspex.example.com>\nSubject: Package received\n\n${prose(i)}\n${shown}\n`);
        break;
      case 'attached':
        out.attached.push(shown);
        break;
    }
  }
  return out;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function encodePart(content: string, charset: Charset, encoding: Encoding): { headers: string[]; body: string } {
  const bytes = iconv.encode(content.replace(/\r?\n/g, '\r\n'), charset);
  const headers = [`Content-Transfer-Encoding: ${encoding}`];
  if (encoding === 'base64') return { headers, body: bytes.toString('base64').replace(/.{76}/g, '$&\r\n') };
  if (encoding === 'quoted-printable') return { headers, body: quotedPrintable(bytes) };
  return { headers, body: bytes.toString('latin1') };
}

/** RFC 2045 quoted-printable with soft breaks at 76 columns (they cut long URLs mid-way). */
function quotedPrintable(bytes: Buffer): string {
  const lines: string[] = [];
  for (const raw of bytes.toString('latin1').split('\r\n')) {
    let line = '';
    let out = '';
    for (let i = 0; i < raw.length; i++) {
      const code = raw.charCodeAt(i);
      const last = i === raw.length - 1;
      const token = (code >= 33 && code <= 126 && code !== 61) || (code === 32 && !last) ? raw[i]! : `=${code.toString(16).toUpperCase().padStart(2, '0')}`;
      if (line.length + token.length > 75) {
        out += `${line}=\r\n`;
        line = '';
      }
      line += token;
    }
    lines.push(out + line);
  }
  return lines.join('\r\n');
}

function leaf(type: 'plain' | 'html', content: string, charset: Charset, encoding: Encoding): string {
  const { headers, body } = encodePart(content, charset, encoding);
  return [`Content-Type: text/${type}; charset=${charset}`, ...headers, '', body].join('\r\n');
}

function multipart(kind: string, children: string[]): string {
  const boundary = `=_gen_${kind}_${children.length}_${Math.abs(hash(children.join('')))}`;
  return [`Content-Type: multipart/${kind}; boundary="${boundary}"`, '', ...children.flatMap((c) => [`--${boundary}`, c]), `--${boundary}--`, ''].join('\r\n');
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}

/** The mail as bytes, as a server would deliver it. */
export function renderMail(spec: MailSpec): Buffer {
  const p = parts(spec, spec.charset);
  let textBody = p.text.join('\n');
  let htmlBody = p.html.length ? `<html><body>${p.html.join('')}</body></html>` : '';
  // a text-only mail still shows the HTML copies' links (as the text alternative would)
  if (spec.body === 'text' && p.html.length) textBody += `\n${p.html.map((h) => h.replace(/<a href="([^"]*)"[^>]*>[^<]*<\/a>/g, (_m, href: string) => `<${unescapeHtml(href)}>`).replace(/<[^>]+>/g, '\n')).join('\n')}`;
  if (spec.body === 'html' && p.text.length) htmlBody = `<html><body>${htmlBody}${p.text.map((t) => `<pre>${escapeHtml(t)}</pre>`).join('')}</body></html>`;
  const alternatives: string[] = [];
  if (spec.body !== 'html') alternatives.push(leaf('plain', textBody || 'See the attached notification.', spec.charset, spec.encoding));
  if (spec.body !== 'text' && htmlBody) alternatives.push(leaf('html', htmlBody, spec.charset, spec.encoding));
  if (alternatives.length === 0) alternatives.push(leaf('plain', textBody || 'See the attached notification.', spec.charset, spec.encoding));
  let root = alternatives.length > 1 ? multipart('alternative', alternatives) : alternatives[0]!;
  if (p.attached.length) {
    const inner = [
      'From: Faspex <faspex@faspex.example.com>',
      'To: ann@studio.example',
      'Subject: Package received: Q3',
      'MIME-Version: 1.0',
      leaf('plain', `${pick(PROSE[spec.innerCharset], 0)}\n${p.attached.map((a) => `Download it here: ${stripUnencodable(a, spec.innerCharset)}`).join('\n')}\n`, spec.innerCharset, spec.innerEncoding),
    ].join('\r\n');
    root = multipart('mixed', [root, ['Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="notification.eml"', '', inner].join('\r\n')]);
  }
  const head = ['From: Ann <ann@studio.example>', 'To: ingest@example.com', 'Subject: Fwd: Package received', 'Message-ID: <gen@studio.example>', 'MIME-Version: 1.0'];
  return Buffer.from([...head, root].join('\r\n'), 'latin1');
}

const unescapeHtml = (s: string) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** An attached copy was presented for the outer charset; the inner one may not carry its neighbours. */
function stripUnencodable(s: string, charset: Charset): string {
  return [...s].filter((ch) => iconv.decode(iconv.encode(ch, charset), charset) === ch).join('');
}

/** The links put in, sorted: what the extractor must return. */
export function expectedLinks(spec: MailSpec): string[] {
  return [...new Set(spec.copies.map((c) => spec.packages[c.pkg]!.link))].sort();
}
