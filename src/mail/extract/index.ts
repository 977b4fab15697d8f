/**
 * The link extractor: a parsed message in, the Faspex package links it announces out.
 * Pure apart from re-parsing attached messages (hence async). See candidates.ts for where links
 * are looked for, unwrap.ts for gateway rewriting and select.ts for what counts as a link.
 */
import type { ParsedMail } from 'mailparser';
import type { AllowedHost } from '../../faspex/allowlist.js';
import type { PackageLink } from '../../faspex/link.js';
import { collectCandidates, DEFAULT_MAX_DEPTH } from './candidates.js';
import { selectPackageLinks } from './select.js';

export { collectCandidates, DEFAULT_MAX_DEPTH } from './candidates.js';
export { hrefsFromHtml, decodeEntities } from './html.js';
export { urlsFromText, cleanUrl } from './text.js';
export { unwrapOnce, unwrapUrl, type UnwrapStep, type Unwrapped } from './unwrap.js';
export { decodeProofpointV1, decodeProofpointV2, decodeProofpointV3 } from './proofpoint.js';
export { selectPackageLinks, MIMECAST_WARNING, type Selection } from './select.js';

export interface ExtractOptions {
  /** when given, links to other hosts become warnings */
  allowlist?: AllowedHost[];
  /** how deep attached messages are opened (forward of a forward...) */
  maxDepth?: number;
}

export async function extractPackageLinks(parsed: ParsedMail, options: ExtractOptions = {}): Promise<{ links: PackageLink[]; warnings: string[] }> {
  const { urls, problems } = await collectCandidates(parsed, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  const { links, warnings } = selectPackageLinks(urls, options.allowlist);
  return { links, warnings: [...warnings, ...problems] };
}
