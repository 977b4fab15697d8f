/**
 * The link extractor: a mail's content (src/mail/mime/content.ts, or mailparser's ParsedMail)
 * in, the Faspex package links it announces out. Pure apart from opening attached messages
 * (hence async). See candidates.ts for where links
 * are looked for, unwrap.ts for gateway rewriting and select.ts for what counts as a link.
 */
import type { ParsedMail } from 'mailparser';
import type { AllowedHost } from '../../faspex/allowlist.js';
import type { PackageLink } from '../../faspex/link.js';
import type { MailContent } from '../mime/content.js';
import { collectCandidates, contentOfParsed, DEFAULT_MAX_DEPTH } from './candidates.js';
import { selectPackageLinks } from './select.js';

export { collectCandidates, contentOfParsed, DEFAULT_MAX_DEPTH } from './candidates.js';
export { hrefsFromHtml, decodeEntities } from './html.js';
export { urlsFromText, textCandidates, cleanUrl, type TextCandidate } from './text.js';
export { judgeLink, type Judgement } from './whole.js';
export { unwrapOnce, unwrapUrl, type UnwrapStep, type Unwrapped } from './unwrap.js';
export { decodeProofpointV1, decodeProofpointV2, decodeProofpointV3 } from './proofpoint.js';
export { selectPackageLinks, MIMECAST_WARNING, type Selection, type Candidate } from './select.js';

export interface ExtractOptions {
  /** when given, links to other hosts become warnings */
  allowlist?: AllowedHost[];
  /** how deep attached messages are opened (forward of a forward...) */
  maxDepth?: number;
}

/**
 * `damaged`: package links seen but not queued because no whole copy of them is in the mail
 * (with the links found, they are also warnings; alone, they make the mail "link damaged").
 */
export async function extractPackageLinks(mail: ParsedMail | MailContent, options: ExtractOptions = {}): Promise<{ links: PackageLink[]; warnings: string[]; damaged: string[] }> {
  const content = 'attached' in mail ? mail : contentOfParsed(mail);
  const { candidates, problems } = await collectCandidates(content, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  const { links, warnings, damaged } = selectPackageLinks(candidates, options.allowlist);
  return { links, warnings: [...warnings, ...(links.length > 0 ? damaged.map((d) => `${d}; not queued`) : []), ...problems], damaged };
}
