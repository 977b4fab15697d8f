/**
 * From candidates to package links: unwrap, classify (src/faspex/link.ts decides what a package
 * link is), check the allowlist, judge wholeness (whole.ts), dedupe by package.
 *
 * Precision over recall. A candidate is one place in the mail where a link was seen, with one
 * or more readings (text.ts: a URL at the end of a full line, joined with its continuation
 * lines). Per candidate, the longest whole reading wins; else the one unverifiable reading; two
 * unverifiable readings that disagree cannot be told apart, and the candidate is damaged unless
 * another place in the mail names one of them. Per package, a whole copy beats one that cannot
 * be checked, a copy beats one it extends (a cut), and the first in the mail beats the rest.
 * What stays damaged (no whole copy anywhere) is reported, never queued.
 * Warnings and damage reasons never carry a link's query (passcodes live there), only hosts.
 */
import { canonicalHost, isHostAllowed, isLinkAllowed, type AllowedHost } from '../../faspex/allowlist.js';
import type { PackageLink } from '../../faspex/link.js';
import { unwrapUrl } from './unwrap.js';
import { judgeLink, linkKey, type Judgement } from './whole.js';

export interface Selection {
  links: PackageLink[];
  warnings: string[];
  /** why a package link seen in the mail was not queued: it is cut or cannot be told apart */
  damaged: string[];
}

/** A place in the mail where a link was seen: the URL as found, then other readings of it. */
export interface Candidate {
  readings: readonly string[];
}

export const MIMECAST_WARNING = 'wrapped by Mimecast: forward the original notification as an attachment or paste the link';

type Accepted = Extract<Judgement, { state: 'whole' | 'unverifiable' }>;
type Damaged = Extract<Judgement, { state: 'damaged' }>;

interface Context {
  allowlist: readonly AllowedHost[] | undefined;
  maxRounds: number;
  warnings: Set<string>;
  cache: Map<string, Judgement>;
}

export function selectPackageLinks(candidates: readonly (string | Candidate)[], allowlist?: readonly AllowedHost[], maxRounds = 5): Selection {
  const ctx: Context = { allowlist, maxRounds, warnings: new Set(), cache: new Map() };
  const chosen: Accepted[] = [];
  const ambiguous: Accepted[][] = [];
  const damaged: Damaged[] = [];
  // The same URL usually comes twice (HTML href and text part): judged once.
  const seen = new Set<string>();
  for (const candidate of candidates) {
    const readings = typeof candidate === 'string' ? [candidate] : candidate.readings;
    const id = readings.join('\n');
    if (seen.has(id)) continue;
    seen.add(id);
    const judged = readings.map((r) => judge(r, ctx));
    const whole = judged.filter((j): j is Accepted => j.state === 'whole');
    const unverifiable = judged.filter((j): j is Accepted => j.state === 'unverifiable');
    if (whole.length > 0) chosen.push(longest(whole));
    else if (unverifiable.length === 1) chosen.push(unverifiable[0]!);
    else if (unverifiable.length > 1) ambiguous.push(unverifiable);
    else {
      const cut = judged.find((j): j is Damaged => j.state === 'damaged');
      if (cut) damaged.push(cut);
    }
  }

  const byKey = new Map<string, Accepted[]>();
  for (const c of chosen) byKey.set(c.key, [...(byKey.get(c.key) ?? []), c]);
  // An ambiguous place is settled when another place names one of its readings.
  const unsettled: Accepted[][] = [];
  for (const options of ambiguous) {
    const named = options.filter((o) => byKey.get(o.key)?.some((c) => c.link.url === o.link.url || c.link.url.startsWith(o.link.url)));
    if (named.length === 0) unsettled.push(options);
  }

  const links: PackageLink[] = [];
  for (const copies of byKey.values()) links.push(best(copies).link);
  const order = new Map<string, number>();
  chosen.forEach((c, i) => order.has(c.key) || order.set(c.key, i));
  links.sort((a, b) => order.get(linkKey(a))! - order.get(linkKey(b))!);

  const reasons = new Set<string>();
  for (const d of damaged) {
    const covered = (d.key && byKey.has(d.key)) || chosen.some((c) => c.link.kind === d.kind && c.link.server === d.server && c.link.url.startsWith(d.url));
    if (!covered) reasons.add(`a ${label(d.kind)} link to ${d.server} is damaged: ${d.reason}`);
  }
  for (const options of unsettled) {
    reasons.add(`a ${label(options[0]!.link.kind)} link to ${options[0]!.link.server} runs to the end of a line and may go on on the next one: cannot tell where it ends`);
  }
  return { links, warnings: [...ctx.warnings], damaged: [...reasons] };
}

function judge(raw: string, ctx: Context): Judgement {
  const hit = ctx.cache.get(raw);
  if (hit) return hit;
  const result = judgeUncached(raw, ctx);
  ctx.cache.set(raw, result);
  return result;
}

function judgeUncached(raw: string, ctx: Context): Judgement {
  const unwrapped = unwrapUrl(raw, ctx.maxRounds);
  if (unwrapped.opaque) {
    const domain = unwrapped.opaque.domain;
    // A Mimecast link whose declared target is not a Faspex server we trust is just noise.
    if (!(domain && ctx.allowlist && !isHostAllowed(domain, ctx.allowlist))) ctx.warnings.add(`a link ${domain ? `to ${canonicalHost(domain)} ` : ''}is ${MIMECAST_WARNING}`);
    return { state: 'none' };
  }
  const judged = judgeLink(unwrapped.url);
  if (judged.state === 'none') return judged;
  if (judged.state === 'damaged') return ctx.allowlist && !isHostAllowed(judged.server, ctx.allowlist) ? { state: 'none' } : judged;
  if (ctx.allowlist && !isLinkAllowed(judged.link, ctx.allowlist)) {
    ctx.warnings.add(`a Faspex-shaped link to ${judged.link.server} was ignored: that host is not in FASPEX_ALLOWED_HOSTS`);
    return { state: 'none' };
  }
  return judged;
}

function longest(options: readonly Accepted[]): Accepted {
  return options.reduce((a, b) => (b.link.url.length > a.link.url.length ? b : a));
}

/** Whole before unverifiable; among those, drop a copy another extends; then the first. */
function best(copies: readonly Accepted[]): Accepted {
  const pool = copies.some((c) => c.state === 'whole') ? copies.filter((c) => c.state === 'whole') : copies;
  const uncut = pool.filter((c) => !pool.some((o) => o.link.url.length > c.link.url.length && o.link.url.startsWith(c.link.url)));
  return uncut[0] ?? pool[0]!;
}

function label(kind: PackageLink['kind']): string {
  return kind === 'fasp-url' ? 'faspe://' : `Faspex ${kind.startsWith('faspex5') ? 5 : 4}`;
}
