/**
 * Whether one allowlist entry allows nothing beyond another list: a mailbox's own allowlist may
 * narrow FASPEX_ALLOWED_HOSTS but never widen it, because the workers check every link against
 * FASPEX_ALLOWED_HOSTS again and would refuse what the mailbox let through. Pure.
 */
import type { AllowedHost } from '../faspex/allowlist.js';

export function coveredBy(entry: AllowedHost, list: readonly AllowedHost[]): boolean {
  return list.some((outer) => {
    if (outer.scheme !== entry.scheme || outer.port !== entry.port) return false;
    if (!outer.wildcard) return !entry.wildcard && entry.host === outer.host;
    // *.example.com covers a.example.com, *.a.example.com and *.example.com, not example.com
    return entry.host.endsWith(`.${outer.host}`) || (entry.wildcard && entry.host === outer.host);
  });
}
