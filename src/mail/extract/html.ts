/**
 * Link targets of an HTML part. A real tokenizer (htmlparser2) rather than a regex: mailparser
 * keeps attribute values entity-encoded (`&amp;` between query parameters), and Faspex 5 puts
 * its only link in a button's `href`.
 */
import { Parser } from 'htmlparser2';

export function hrefsFromHtml(html: string): string[] {
  return readHtml(html).hrefs;
}

/** Tags that end a line of text (what a mail client shows on a line of its own). */
const BLOCK = new Set(['br', 'p', 'div', 'pre', 'li', 'tr', 'td', 'th', 'blockquote', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'hr']);

/**
 * Link targets and the visible text of an HTML part. The text matters when a URL is only
 * written, not linked (a plain-text notification forwarded from a client that makes HTML of
 * it): mailparser derives no text part from the HTML of every mail.
 */
export function readHtml(html: string): { hrefs: string[]; text: string } {
  const hrefs: string[] = [];
  let text = '';
  let hidden = 0;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        const href = attribs.href?.trim();
        if (href) hrefs.push(href);
        if (name === 'script' || name === 'style' || name === 'head') hidden++;
        if (BLOCK.has(name)) text += '\n';
      },
      ontext(data) {
        if (hidden === 0) text += data;
      },
      onclosetag(name) {
        if (name === 'script' || name === 'style' || name === 'head') hidden = Math.max(0, hidden - 1);
        if (BLOCK.has(name)) text += '\n';
      },
    },
    { decodeEntities: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return { hrefs, text };
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The few entities that appear inside URLs (Proofpoint v1/v2 targets, pasted HTML source). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[name.toLowerCase()] ?? whole;
  });
}
