/**
 * Message-ID, Subject, From and Authentication-Results of a header, read as mailparser reads
 * them (libmime's header decoding, encoded words, `<…>` around a Message-ID, its address parser
 * for From), so a job's source and the sender policy see the same values whichever reader read
 * the mail. The first field of each wins, as in mailparser.
 */
import { createRequire } from 'node:module';
import type Libmime from 'libmime';
import type { HeaderLine } from './content.js';

/**
 * Required on first use, the CommonJS copy mailparser loads too: a static import would make the
 * one-shot `extract` bundle load libmime and its charset tables at every start (scripts/build.mjs).
 */
let loaded: typeof Libmime | undefined;
const libmime = (): typeof Libmime => (loaded ??= createRequire(import.meta.url)('libmime') as typeof Libmime);

export interface MailFacts {
  messageId?: string;
  subject?: string;
  from?: string;
  /** every Authentication-Results field's value (the sender policy reads them) */
  authenticationResults: string[];
}

/** mailparser's parseAddressHeader, passed in so this module does not load mailparser */
export type ParseAddress = (value: string) => { value: Array<{ address?: string }> };

export function mailFacts(lines: readonly HeaderLine[], parseAddress: ParseAddress): MailFacts {
  const facts: MailFacts = { authenticationResults: lines.filter((h) => h.key === 'authentication-results').map((h) => h.line.replace(/^[^:]*:\s*/, '')) };
  const messageId = words(value(lines, 'message-id'));
  if (messageId) facts.messageId = `${messageId.startsWith('<') ? '' : '<'}${messageId}${messageId.endsWith('>') ? '' : '>'}`;
  const subject = words(value(lines, 'subject'));
  if (subject) facts.subject = subject;
  const from = value(lines, 'from');
  const address = from ? parseAddress(from).value[0]?.address : undefined;
  if (address) facts.from = address;
  return facts;
}

function value(lines: readonly HeaderLine[], key: string): string | undefined {
  const line = lines.find((l) => l.key === key)?.line;
  if (line === undefined) return undefined;
  return Buffer.from(fieldValue(line), 'binary').toString();
}

/** A header field's value as libmime's decodeHeader gives it: unfolded, after the first colon, trimmed. */
function fieldValue(line: string): string {
  const unfolded = line.replace(/(?:\r?\n|\r)[ \t]*/g, ' ').trim();
  return /^\s*[^:]+:(.*)$/.exec(unfolded)?.[1]?.trim() ?? '';
}

function words(text: string | undefined): string | undefined {
  if (!text) return undefined;
  // libmime changes only encoded words (and its own join marker, which holds a NUL): a plain
  // value, which most are, does not need libmime and its charset tables loaded at all
  if (!text.includes('=?') && !text.includes('\0')) return text;
  try {
    return libmime().decodeWords(text);
  } catch {
    return text;
  }
}
