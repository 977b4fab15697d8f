/**
 * URLs in plain text, repaired the way RFC 3986 appendix C suggests: a URL delimited by `<...>`
 * (optionally `<URL:...>`) runs to the closing `>` and whitespace inside it is a line wrap, not
 * part of the URL (Outlook's plain-text forward renders `Download Package<https://...>` and
 * wraps long ones). Undelimited URLs end at whitespace, minus trailing punctuation.
 */

const SCHEMES = '(?:https?|faspe?)://';
/** `<` [URL:] scheme ... `>`; bounded so an unclosed `<` cannot swallow the whole mail */
const DELIMITED = new RegExp(`<\\s*(?:URL:\\s*)?(${SCHEMES}[^<>]{1,8192}?)>`, 'gi');
const BARE = new RegExp(`${SCHEMES}[^\\s<>"\`]+`, 'gi');
const TRAILING = /(?:[.,;:!?)\]}>'"]|&gt;?|&lt;?|&quot;?)+$/i;

export interface TextUrl {
  url: string;
  index: number;
}

/** Every URL in `text`, in order of appearance. */
export function urlsFromText(text: string): string[] {
  // Text that went through an HTML encoder once too often still says `&lt;https://...&gt;`.
  const source = text.replace(/&lt;/gi, '<').replace(/&gt;/gi, '>');
  const found: TextUrl[] = [];
  let masked = source;
  for (const m of source.matchAll(DELIMITED)) {
    const url = cleanUrl(m[1]!.replace(/\s+/g, ''));
    if (url) found.push({ url, index: m.index });
    // Hide the delimited URL from the bare scan, which would see its wrapped halves.
    masked = masked.slice(0, m.index) + ' '.repeat(m[0].length) + masked.slice(m.index + m[0].length);
  }
  for (const m of masked.matchAll(BARE)) {
    const url = cleanUrl(m[0]);
    if (url) found.push({ url, index: m.index });
  }
  return found.sort((a, b) => a.index - b.index).map((f) => f.url);
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
