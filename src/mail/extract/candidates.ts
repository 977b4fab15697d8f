/**
 * Every place a link can hide in a parsed message, in order: the X-Aspera-Filepkg-Location
 * header, HTML hrefs, text URLs, then attached messages (forward-as-attachment), re-parsed.
 * mailparser already merged embedded messages with an inline disposition into text/html.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { readHtml } from './html.js';
import type { Candidate } from './select.js';
import { textCandidates, urlsFromText } from './text.js';

export const DEFAULT_MAX_DEPTH = 3;

export interface Candidates {
  /** in order: header, HTML hrefs, text URLs (with their wrapped readings), attached messages */
  candidates: Candidate[];
  /** attached messages that could not be read; the rest of the mail still counts */
  problems: string[];
}

export async function collectCandidates(parsed: ParsedMail, maxDepth = DEFAULT_MAX_DEPTH, depth = 0): Promise<Candidates> {
  const candidates: Candidate[] = headerUrls(parsed).map(one);
  const problems: string[] = [];
  if (typeof parsed.html === 'string') {
    const { hrefs, text } = readHtml(parsed.html);
    candidates.push(...hrefs.map(one));
    // URLs written in the HTML's text: mailparser makes a text part of the HTML only sometimes
    if (!parsed.text) candidates.push(...textCandidates(text));
  }
  if (parsed.text) candidates.push(...textCandidates(parsed.text));
  for (const attachment of parsed.attachments ?? []) {
    if (attachment.contentType?.toLowerCase() !== 'message/rfc822') continue;
    if (depth + 1 > maxDepth) {
      problems.push(`a message attached more than ${maxDepth} levels deep was not read`);
      continue;
    }
    try {
      const inner = await simpleParser(attachment.content, { skipImageLinks: true });
      const nested = await collectCandidates(inner, maxDepth, depth + 1);
      candidates.push(...nested.candidates);
      problems.push(...nested.problems);
    } catch (e) {
      problems.push(`an attached message could not be read: ${(e as Error).message}`);
    }
  }
  return { candidates, problems };
}

const one = (url: string): Candidate => ({ readings: [url] });

function headerUrls(parsed: ParsedMail): string[] {
  const lines = parsed.headerLines?.filter((h) => h.key === 'x-aspera-filepkg-location') ?? [];
  return lines.flatMap((h) => urlsFromText(h.line.replace(/^[^:]*:\s*/, '').replace(/\r?\n[ \t]+/g, '')));
}
