/**
 * What one mail means: read it, apply the sender policy, extract its package links. The mail
 * arrives as a raw message (`decideMail`: a file, `extract`, a source that has the MIME text) or
 * as content already split into header, text and HTML (`decideContent`: the IMAP listener's
 * fetched parts, a source that hands over bodies). Throws only when the mail cannot be read at
 * all (the listener records it and moves on).
 */
import type { AllowedHost } from '../faspex/allowlist.js';
import { headerLines, type MailContent } from './mime/content.js';
import type { PlanNode } from './mime-plan.js';
import { checkSender, type SenderPolicy } from './sender-policy.js';
import type { MailDecision } from './types.js';

/** `load` run once and its promise kept (an `import()` per mail costs a module resolution each); a failed load is tried again. */
function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((e: unknown) => {
      loading = undefined;
      throw e;
    }));
}

/**
 * mailparser, the MIME reader and the extractor (htmlparser2, libmime, iconv tables: ~10 MB of
 * a process's memory) load with the first mail, not at start: a listener that waits for mail
 * does not carry them until one comes.
 */
const loadParsers = loadOnce(() => Promise.all([import('mailparser'), import('./extract/index.js'), import('./mime/read-mime.js'), import('./mime/header-facts.js'), import('./mime/parts-content.js')]));
/** The direct reader alone: `extract`, a one-shot command, loads mailparser only for a mail the direct reader does not take on. */
const loadDirectReader = loadOnce(() => import('./mime/read-mime.js'));

/** A notification announces one package, a digest a few; thousands in one mail are an attack. */
export const DEFAULT_MAX_LINKS = 50;

export interface DecideOptions {
  allowlist: AllowedHost[];
  senderPolicy?: SenderPolicy | undefined;
  maxDepth?: number;
  maxLinks?: number;
  /** Faspex 5 servers whose mention in a mail asks for a sweep (MailDecision.mentions) */
  mentionHosts?: readonly string[] | undefined;
}

export async function decideMail(raw: Buffer, options: DecideOptions): Promise<MailDecision> {
  return decideContent(await readMail(raw), options);
}

/**
 * A raw message as content: split and decoded directly where its structure is plain (almost
 * every mail), read by mailparser where it is not (read-mime.ts says which).
 */
export async function readMail(raw: Buffer): Promise<MailContent> {
  const { readMime } = await loadDirectReader();
  const direct = readMime(raw, readMail);
  if (direct) return direct;
  const [{ simpleParser }, { contentOfParsed }] = await loadParsers();
  return contentOfParsed(await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, keepCidLinks: true }));
}

/** A mail from the parts an IMAP FETCH brought for its plan (mime-plan.ts), decoded in place. */
export async function decideFetched(header: Buffer, root: PlanNode | undefined, parts: ReadonlyMap<string, Buffer>, options: DecideOptions): Promise<MailDecision> {
  const [, , , , { partsContent }] = await loadParsers();
  return decideContent(partsContent(header, root, parts), options);
}

export async function decideContent(content: MailContent, options: DecideOptions): Promise<MailDecision> {
  const [{ parseAddressHeader }, { extractPackageLinks }, , { mailFacts }] = await loadParsers();
  const { authenticationResults, ...fromHeader } = mailFacts(content.headerLines, parseAddressHeader);
  const facts = { ...fromHeader, ...mentionsOf(content, options.mentionHosts) };
  if (options.senderPolicy) {
    const verdict = checkSender({ from: facts.from, authenticationResults }, options.senderPolicy);
    if (!verdict.ok) return { kind: 'refused', links: [], warnings: [], reason: verdict.reason, ...facts };
  }
  const { links, warnings, damaged } = await extractPackageLinks(content, { allowlist: options.allowlist, ...(options.maxDepth ? { maxDepth: options.maxDepth } : {}) });
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
function mentionsOf(parsed: { text?: string | false | undefined; html?: string | false | undefined }, hosts: readonly string[] | undefined): { mentions?: string[] } {
  if (!hosts || hosts.length === 0) return {};
  const body = `${parsed.text || ''}\n${typeof parsed.html === 'string' ? parsed.html : ''}`.toLowerCase();
  // the host must end there: `//f5.example.com` is not named by `//f5.example.com.evil`; a
  // gateway's wrapping (`%2F%2Fhost`) names it too
  const patterns = mentionPatterns(hosts);
  const found = hosts.filter((_, i) => patterns[i]!.test(body));
  return found.length > 0 ? { mentions: found } : {};
}

/** The pattern per host, made once per list (the listener passes the same list with every mail). */
const mentionPatternCache = new WeakMap<readonly string[], RegExp[]>();
function mentionPatterns(hosts: readonly string[]): RegExp[] {
  let patterns = mentionPatternCache.get(hosts);
  if (!patterns) {
    patterns = hosts.map((h) => new RegExp(`(?://|%2f%2f)${h.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![a-z0-9.-])`));
    mentionPatternCache.set(hosts, patterns);
  }
  return patterns;
}

/** Message-ID, Subject and From of a header block alone, for a mail whose body cannot be read. */
export async function headerFacts(header: Buffer): Promise<Pick<MailDecision, 'messageId' | 'subject' | 'from'>> {
  try {
    const [{ parseAddressHeader }, , , { mailFacts }] = await loadParsers();
    const { authenticationResults: _ignored, ...facts } = mailFacts(headerLines(header.toString('latin1')), parseAddressHeader);
    return facts;
  } catch {
    return {};
  }
}
