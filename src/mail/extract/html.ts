/**
 * Link targets of an HTML part. A real tokenizer (htmlparser2) rather than a regex: mailparser
 * keeps attribute values entity-encoded (`&amp;` between query parameters), and Faspex 5 puts
 * its only link in a button's `href`.
 */
import { Parser } from 'htmlparser2';

export function hrefsFromHtml(html: string): string[] {
  const hrefs: string[] = [];
  const parser = new Parser(
    {
      onopentag(_name, attribs) {
        const href = attribs.href?.trim();
        if (href) hrefs.push(href);
      },
    },
    { decodeEntities: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return hrefs;
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
