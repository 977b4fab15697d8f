/**
 * The text and HTML of a mail from its decoded text parts, put together as mailparser does
 * (getTextContent): text/plain parts joined with `\n`, text/html parts joined with `<br/>\n`; an
 * HTML part that is no alternative to a text part, in a mail that has text parts, adds its
 * visible text to the text (mailparser converts it with html-to-text; the visible text of
 * extract/html.ts is what extraction reads of HTML anyway). An HTML-only mail gets no text:
 * extraction reads its visible text itself.
 */
import { readHtml } from '../extract/html.js';

export interface TextLeaf {
  type: 'text/plain' | 'text/html';
  text: string;
  /** inside a multipart/alternative */
  alternative: boolean;
}

export function composeText(leaves: readonly TextLeaf[]): { text: string | undefined; html: string | undefined } {
  const hasText = leaves.some((l) => l.type === 'text/plain');
  const text: string[] = [];
  const html: string[] = [];
  for (const leaf of leaves) {
    if (leaf.type === 'text/plain') text.push(leaf.text);
    else {
      if (!leaf.alternative && hasText) text.push(readHtml(leaf.text).text);
      html.push(leaf.text);
    }
  }
  return { text: text.length ? text.join('\n') : undefined, html: html.length ? html.join('<br/>\n') : undefined };
}
