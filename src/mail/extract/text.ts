/**
 * URLs in plain text, repaired the way RFC 3986 appendix C suggests: a URL delimited by `<...>`
 * (optionally `<URL:...>`) runs to the closing `>` and whitespace inside it is a line wrap, not
 * part of the URL (Outlook's plain-text forward renders `Download Package<https://...>` and
 * wraps long ones). Undelimited URLs end at whitespace or at the first character a URL cannot
 * hold, minus trailing punctuation.
 *
 * A URL is ASCII (RFC 3986): a character beyond ASCII right after one, an emoji (👈), CJK
 * punctuation (」。、), another script's closing bracket (）》›), is prose, not part of it.
 * Only the host may be written in another script (an IDN), so letters and digits of any script
 * are allowed there and nowhere else.
 *
 * An undelimited URL that runs to the end of a full line may have been hard-wrapped without a
 * marker (or by `> ` quoting that rewrapped a forward): such a URL comes with further readings,
 * each joining one more continuation line (same quote prefix, no leading space). Which reading
 * is the link is decided by select.ts from the link formats, never here.
 */

const SCHEMES = '(?:https?|faspe?)://';
/** `<` [URL:] scheme ... `>`; bounded so an unclosed `<` cannot swallow the whole mail */
const DELIMITED = new RegExp(`<\\s*(?:URL:\\s*)?(${SCHEMES}[^<>]{1,8192}?)>`, 'gi');
/** printable ASCII without `<>"` and backtick: what may follow the host */
const ASCII_URL = '[!#-;=?-_a-~]';
/** the host part: the same without `/?#`, or a letter, digit or mark of any script */
const AUTHORITY = '(?:[!$-.0-;=@-_a-~]|[\\p{L}\\p{N}\\p{M}])+';
const BARE = new RegExp(`${SCHEMES}${AUTHORITY}(?:[/?#]${ASCII_URL}*)?`, 'giu');
const CONTINUATION = new RegExp(`^${ASCII_URL}+`);
const STARTS_URL = new RegExp(`^${SCHEMES}`, 'i');
const TRAILING = /(?:[.,;:!?)\]}>'"]|&gt;?|&lt;?|&quot;?)+$/i;
/** `>` quoting, possibly nested (`> > `, `>> `), with the space most clients add */
const QUOTE_PREFIX = /^(?:[ \t]*>)+[ \t]?/;
/** a line shorter than this was ended by its writer, not by a wrap */
export const WRAP_MIN_LINE = 40;
/** continuation lines followed at most (a Faspex 5 link is ~400 characters: 6 lines of 72) */
const MAX_CONTINUATIONS = 8;

export interface TextCandidate {
  /** the URL as found first, then with 1, 2, ... continuation lines joined */
  readings: string[];
  index: number;
}

/** Every URL in `text`, in order of appearance (the first reading of each). */
export function urlsFromText(text: string): string[] {
  return textCandidates(text).map((c) => c.readings[0]!);
}

/** Every URL in `text` with its readings, in order of appearance. */
export function textCandidates(text: string): TextCandidate[] {
  // Text that went through an HTML encoder once too often still says `&lt;https://...&gt;`.
  const source = text.replace(/&lt;/gi, '<').replace(/&gt;/gi, '>');
  const found: TextCandidate[] = [];
  let masked = source;
  for (const m of source.matchAll(DELIMITED)) {
    const url = cleanUrl(m[1]!.replace(/\s+/g, ''));
    if (url) found.push({ readings: [url], index: m.index });
    // Hide the delimited URL from the bare scan, which would see its wrapped halves.
    masked = masked.slice(0, m.index) + ' '.repeat(m[0].length) + masked.slice(m.index + m[0].length);
  }
  for (const m of masked.matchAll(BARE)) {
    const url = cleanUrl(m[0]);
    if (!url) continue;
    const readings = [url];
    for (const joined of continuations(masked, m.index, m[0])) {
      const reading = cleanUrl(joined);
      if (reading && !readings.includes(reading)) readings.push(reading);
    }
    found.push({ readings, index: m.index });
  }
  return found.sort((a, b) => a.index - b.index);
}

/** The URL starting at `start` joined with 1, 2, ... following lines, when it may be wrapped. */
function continuations(text: string, start: number, url: string): string[] {
  const out: string[] = [];
  const lineStart = text.lastIndexOf('\n', start) + 1;
  let end = start + url.length;
  let line = text.slice(lineStart, end);
  const prefix = QUOTE_PREFIX.exec(line)?.[0] ?? '';
  let joined = url;
  for (let i = 0; i < MAX_CONTINUATIONS; i++) {
    // the URL must run to the end of a full line
    const eol = /^\r?\n/.exec(text.slice(end, end + 2));
    if (!eol || line.replace(/\r$/, '').length < WRAP_MIN_LINE) break;
    const nextStart = end + eol[0].length;
    const nextEnd = text.indexOf('\n', nextStart);
    const next = text.slice(nextStart, nextEnd < 0 ? text.length : nextEnd).replace(/\r$/, '');
    if ((QUOTE_PREFIX.exec(next)?.[0] ?? '') !== prefix) break;
    const rest = next.slice(prefix.length);
    if (STARTS_URL.test(rest)) break;
    const token = CONTINUATION.exec(rest)?.[0];
    if (!token) break;
    joined += token;
    out.push(joined);
    if (token.length < rest.length) break;
    line = next;
    end = nextStart + next.length;
  }
  return out;
}

/** Strips what surrounding prose leaves on a URL; undefined when nothing usable remains. */
export function cleanUrl(raw: string): string | undefined {
  let url = raw.replace(/&amp;/gi, '&');
  for (;;) {
    const stripped = url.replace(TRAILING, '');
    // A closing parenthesis belongs to the URL when it has an opening one (Wikipedia-style paths).
    if (stripped !== url && url.endsWith(')') && balanced(url)) {
      const withoutOthers = url.replace(/[.,;:!?\]}>'"]+$/, '');
      if (withoutOthers === url) break;
      url = withoutOthers;
      continue;
    }
    if (stripped === url) break;
    url = stripped;
  }
  return /^[a-z]+:\/\/[^/?#\s]+/i.test(url) ? url : undefined;
}

function balanced(url: string): boolean {
  return (url.match(/\(/g)?.length ?? 0) >= (url.match(/\)/g)?.length ?? 0);
}
