/**
 * Optional sender policy (email.md A6): only mail from known forwarders is read, and only when
 * our own receiving server vouches for the From address. Anyone can type a From header; the
 * topmost Authentication-Results with our authserv-id is the receiving MTA's verdict, and the
 * only one that cannot be forged by the sender (RFC 8601 §5, §7.1). Pure.
 */

export interface SenderPolicy {
  /** addresses (`a@b.example`), domains (`b.example`) or `*@b.example` */
  allowedForwarders: string[];
  authservId: string;
}

export type PolicyVerdict = { ok: true; via: 'dmarc' | 'dkim' } | { ok: false; reason: string };

export interface SenderFacts {
  /** the outer From address */
  from: string | undefined;
  /** Authentication-Results values, topmost (most recently added) first */
  authenticationResults: string[];
}

export function checkSender(facts: SenderFacts, policy: SenderPolicy): PolicyVerdict {
  const from = facts.from?.trim().toLowerCase();
  const domain = from?.split('@')[1];
  if (!from || !domain) return { ok: false, reason: 'the mail has no From address' };
  if (!forwarderAllowed(from, domain, policy.allowedForwarders)) return { ok: false, reason: `${from} is not in MAIL_ALLOWED_FORWARDERS` };

  const ours = facts.authenticationResults.map(parseAuthResults).find((r) => r && r.authservId === policy.authservId.toLowerCase());
  if (!ours) return { ok: false, reason: `no Authentication-Results from ${policy.authservId}: the From address cannot be trusted` };
  if (ours.results.some((r) => r.method === 'dmarc' && r.result === 'pass')) return { ok: true, via: 'dmarc' };
  const aligned = ours.results.some((r) => r.method === 'dkim' && r.result === 'pass' && alignedDomain(r.props['header.d'], domain));
  if (aligned) return { ok: true, via: 'dkim' };
  return { ok: false, reason: `${policy.authservId} shows neither dmarc=pass nor an aligned dkim=pass for ${domain}` };
}

export function forwarderAllowed(address: string, domain: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => {
    const e = entry.trim().toLowerCase();
    if (e.startsWith('*@')) return domain === e.slice(2);
    if (e.includes('@')) return address === e;
    return domain === e;
  });
}

/** Relaxed alignment without a public-suffix list: the signing domain is the From domain or a parent of it. */
function alignedDomain(signing: string | undefined, fromDomain: string): boolean {
  if (!signing) return false;
  const d = signing.toLowerCase().replace(/\.$/, '');
  return d.includes('.') && (fromDomain === d || fromDomain.endsWith(`.${d}`));
}

export interface AuthResult {
  method: string;
  result: string;
  props: Record<string, string>;
}

/** `authserv-id [version]; method=result prop.x=value ...; ...` with (comments) removed. */
export function parseAuthResults(value: string): { authservId: string; results: AuthResult[] } | undefined {
  const text = stripComments(value.replace(/\r?\n[ \t]+/g, ' '));
  const [head, ...rest] = text.split(';');
  const authservId = head?.trim().split(/\s+/)[0]?.toLowerCase();
  if (!authservId) return undefined;
  const results: AuthResult[] = [];
  for (const clause of rest) {
    const tokens = clause.trim().split(/\s+/).filter(Boolean);
    const first = /^([a-z0-9_-]+)(?:\/\d+)?=([a-z]+)$/i.exec(tokens[0] ?? '');
    if (!first) continue;
    const props: Record<string, string> = {};
    for (const token of tokens.slice(1)) {
      const m = /^([a-z0-9_-]+\.[a-z0-9_-]+)=(.+)$/i.exec(token);
      if (m) props[m[1]!.toLowerCase()] = m[2]!.replace(/^"|"$/g, '');
    }
    results.push({ method: first[1]!.toLowerCase(), result: first[2]!.toLowerCase(), props });
  }
  return { authservId, results };
}

function stripComments(s: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      if (depth === 0) out += c + s[i + 1];
      i++;
    } else if (c === '"' && depth === 0) {
      quoted = !quoted;
      out += c;
    } else if (c === '(' && !quoted) depth++;
    else if (c === ')' && !quoted && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}
