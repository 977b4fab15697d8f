/**
 * What one fetched mail means: parse it, apply the sender policy, extract its package links.
 * Throws only when the mail cannot be parsed at all (the listener records it and moves on).
 */
import type * as Mailparser from 'mailparser';
import type { AllowedHost } from '../faspex/allowlist.js';
import type * as Extract from './extract/index.js';
import { checkSender, type SenderPolicy } from './sender-policy.js';
import type { MailDecision } from './types.js';

/**
 * mailparser and the extractor (htmlparser2, libmime, iconv tables: ~10 MB of a process's
 * memory) load with the first mail, not at start: a listener that waits for mail does not
 * carry them until one comes. Loaded once, then kept.
 */
let parsers: Promise<[typeof Mailparser, typeof Extract]> | undefined;
function loadParsers() {
  parsers ??= Promise.all([import('mailparser'), import('./extract/index.js')]).catch((e: unknown) => {
    parsers = undefined;
    throw e;
  });
  return parsers;
}

/** A notification announces one package, a digest a few; thousands in one mail are an attack. */
export const DEFAULT_MAX_LINKS = 50;

export async function decideMail(raw: Buffer, options: { allowlist: AllowedHost[]; senderPolicy?: SenderPolicy | undefined; maxDepth?: number; maxLinks?: number; mentionHosts?: readonly string[] | undefined }): Promise<MailDecision> {
  const [{ simpleParser }, { extractPackageLinks }] = await loadParsers();
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, keepCidLinks: true });
  const from = parsed.from?.value[0]?.address;
  const facts = { messageId: parsed.messageId, subject: parsed.subject, from, ...mentionsOf(parsed, options.mentionHosts) };
  if (options.senderPolicy) {
    const authenticationResults = parsed.headerLines.filter((h) => h.key === 'authentication-results').map((h) => h.line.replace(/^[^:]*:\s*/, ''));
    const verdict = checkSender({ from, authenticationResults }, options.senderPolicy);
    if (!verdict.ok) return { kind: 'refused', links: [], warnings: [], reason: verdict.reason, ...facts };
  }
  const { links, warnings, damaged } = await extractPackageLinks(parsed, { allowlist: options.allowlist, ...(options.maxDepth ? { maxDepth: options.maxDepth } : {}) });
  const maxLinks = options.maxLinks ?? DEFAULT_MAX_LINKS;
  if (links.length > maxLinks) {
    // refused whole: queuing an arbitrary first few would hide the rest without anyone noticing
    const reason = `${links.length} package links in one mail, more than MAIL_MAX_LINKS=${maxLinks}: refused as a likely mail bomb; forward the notifications separately or raise MAIL_MAX_LINKS`;
    return { kind: 'refused', links: [], warnings, reason, ...facts };
  }
  if (links.length === 0 && damaged.length > 0) {
    // A cut passcode fails later, on the server, with a login page: say so now instead.
    const reason = `link damaged: ${damaged.join('; ')}; forward the original notification as an attachment or paste the whole link`;
    return { kind: 'damaged', links: [], warnings, reason, ...facts };
  }
  return { kind: links.length ? 'links' : 'no-link', links, warnings, ...facts };
}

/**
 * Which of `hosts` the mail names in a URL (`//host`, any path, any link form the extractor may
 * not know), in its text or HTML: a Faspex 5 server's mail asks for a sweep by that alone.
 */
function mentionsOf(parsed: { text?: string | undefined; html?: string | false | undefined }, hosts: readonly string[] | undefined): { mentions?: string[] } {
  if (!hosts || hosts.length === 0) return {};
  const body = `${parsed.text ?? ''}\n${typeof parsed.html === 'string' ? parsed.html : ''}`.toLowerCase();
  // the host must end there: `//f5.example.com` is not named by `//f5.example.com.evil`; a
  // gateway's wrapping (`%2F%2Fhost`) names it too
  const found = hosts.filter((h) => new RegExp(`(?://|%2f%2f)${h.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![a-z0-9.-])`).test(body));
  return found.length > 0 ? { mentions: found } : {};
}

/** Message-ID, Subject and From of a header block alone, for a mail whose body cannot be read. */
export async function headerFacts(header: Buffer): Promise<Pick<MailDecision, 'messageId' | 'subject' | 'from'>> {
  try {
    const [{ simpleParser }] = await loadParsers();
    const parsed = await simpleParser(Buffer.concat([header, Buffer.from('\r\n')]), { skipTextToHtml: true });
    const from = parsed.from?.value[0]?.address;
    return { ...(parsed.messageId ? { messageId: parsed.messageId } : {}), ...(parsed.subject ? { subject: parsed.subject } : {}), ...(from ? { from } : {}) };
  } catch {
    return {};
  }
}
