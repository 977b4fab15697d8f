/**
 * From raw candidate URLs to package links: unwrap, classify (src/faspex/link.ts decides what
 * a package link is), check the allowlist, dedupe by package in order of appearance.
 * Warnings never carry a link's query (passcodes live there), only hosts and wrapper names.
 */
import { canonicalHost, isHostAllowed, isLinkAllowed, type AllowedHost } from '../../faspex/allowlist.js';
import { classifyLink, type PackageLink } from '../../faspex/link.js';
import { unwrapUrl } from './unwrap.js';

export interface Selection {
  links: PackageLink[];
  warnings: string[];
}

export const MIMECAST_WARNING = 'wrapped by Mimecast: forward the original notification as an attachment or paste the link';

export function selectPackageLinks(candidates: readonly string[], allowlist?: readonly AllowedHost[], maxRounds = 5): Selection {
  const links: PackageLink[] = [];
  const warnings = new Set<string>();
  const seen = new Set<string>();
  // The same URL usually comes twice (HTML href and text part); an identical string always
  // ends the same way, so unwrapping and classifying it once is enough (half the work).
  for (const candidate of new Set(candidates)) {
    const unwrapped = unwrapUrl(candidate, maxRounds);
    if (unwrapped.opaque) {
      const domain = unwrapped.opaque.domain;
      // A Mimecast link whose declared target is not a Faspex server we trust is just noise.
      if (domain && allowlist && !isHostAllowed(domain, allowlist)) continue;
      warnings.add(`a link ${domain ? `to ${canonicalHost(domain)} ` : ''}is ${MIMECAST_WARNING}`);
      continue;
    }
    const verdict = classifyLink(unwrapped.url);
    if (!verdict.ok) continue;
    const link = verdict.link;
    if (allowlist && !isLinkAllowed(link, allowlist)) {
      warnings.add(`a Faspex-shaped link to ${link.server} was ignored: that host is not in FASPEX_ALLOWED_HOSTS`);
      continue;
    }
    const key = `${link.kind}|${link.server}|${link.packageId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    links.push(link);
  }
  return { links, warnings: [...warnings] };
}
