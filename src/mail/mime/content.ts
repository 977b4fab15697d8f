/**
 * What extraction reads of a mail, whatever it came from: its header fields, its text and HTML
 * (decoded), and the messages attached to it. A raw message (read-mime.ts), the parts an IMAP
 * FETCH brought (parts-content.ts) and a mail source that hands over bodies directly all give
 * one; mailparser's ParsedMail is one too (from-parsed.ts), for what only mailparser reads.
 * The text and HTML are put together the way mailparser does (compose.ts), so a link is found
 * the same way whichever reader read the mail.
 */

/** One header field as written: `key` lower case, `line` the whole field (folding kept), latin1. */
export interface HeaderLine {
  key: string;
  line: string;
}

export interface MailContent {
  headerLines: readonly HeaderLine[];
  /** the text/plain parts, joined with `\n` (and the visible text of HTML that has no text alternative next to text elsewhere) */
  text?: string | false | undefined;
  /** the text/html parts, joined */
  html?: string | false | undefined;
  /** messages attached to this one (forward as attachment), read only when extraction opens them */
  attached: readonly (() => Promise<MailContent>)[];
}

/** Header fields of one header block (up to its blank line, or all of it). */
export function headerLines(header: string): HeaderLine[] {
  const end = /\r?\n\r?\n/.exec(header);
  const block = end ? header.slice(0, end.index) : header.replace(/(\r?\n)+$/, '');
  const out: HeaderLine[] = [];
  for (const field of block.split(/\r?\n(?![ \t])/)) {
    const colon = field.indexOf(':');
    if (colon <= 0) continue;
    out.push({ key: field.slice(0, colon).trim().toLowerCase(), line: field });
  }
  return out;
}

/** The first field named `key`, unfolded, without its name. */
export function headerValue(lines: readonly HeaderLine[], key: string): string | undefined {
  const line = lines.find((l) => l.key === key)?.line;
  return line === undefined ? undefined : line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]/g, ' ').trim();
}
