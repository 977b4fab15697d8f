/**
 * Every place a link can hide in a mail, in order: the X-Aspera-Filepkg-Location header, HTML
 * hrefs, text URLs, then attached messages (forward-as-attachment), opened in turn. Embedded
 * messages with an inline disposition are already merged into the text and HTML.
 */
import type { ParsedMail } from 'mailparser';
import type { MailContent } from '../mime/content.js';
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

/**
 * mailparser's reading of a mail as content; its attached messages are parsed by mailparser too
 * (loaded then: a mail the direct reader took on never loads it).
 */
export function contentOfParsed(parsed: ParsedMail): MailContent {
  return {
    headerLines: parsed.headerLines ?? [],
    text: parsed.text,
    html: parsed.html,
    attached: (parsed.attachments ?? [])
      .filter((a) => a.contentType?.toLowerCase() === 'message/rfc822')
      .map((a) => async () => contentOfParsed(await (await import('mailparser')).simpleParser(a.content, { skipImageLinks: true }))),
  };
}

export async function collectCandidates(mail: MailContent, maxDepth = DEFAULT_MAX_DEPTH, depth = 0): Promise<Candidates> {
  const candidates: Candidate[] = headerUrls(mail).map(one);
  const problems: string[] = [];
  if (typeof mail.html === 'string') {
    const { hrefs, text } = readHtml(mail.html);
    candidates.push(...hrefs.map(one));
    // URLs written in the HTML's text: mailparser makes a text part of the HTML only sometimes
    if (!mail.text) candidates.push(...textCandidates(text));
  }
  if (mail.text) candidates.push(...textCandidates(mail.text));
  for (const open of mail.attached) {
    if (depth + 1 > maxDepth) {
      problems.push(`a message attached more than ${maxDepth} levels deep was not read`);
      continue;
    }
    try {
      const nested = await collectCandidates(await open(), maxDepth, depth + 1);
      candidates.push(...nested.candidates);
      problems.push(...nested.problems);
    } catch (e) {
      problems.push(`an attached message could not be read: ${(e as Error).message}`);
    }
  }
  return { candidates, problems };
}

const one = (url: string): Candidate => ({ readings: [url] });

function headerUrls(mail: MailContent): string[] {
  const lines = mail.headerLines.filter((h) => h.key === 'x-aspera-filepkg-location');
  return lines.flatMap((h) => urlsFromText(h.line.replace(/^[^:]*:\s*/, '').replace(/\r?\n[ \t]+/g, '')));
}
