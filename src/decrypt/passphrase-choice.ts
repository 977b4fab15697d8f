/**
 * Which passphrase decrypts a package: the most specific rule of DECRYPT_PASSPHRASES_FILE that
 * matches wins (sender address, sender domain, inbox, server), then DECRYPT_PASSPHRASE. Pure.
 * What is returned names where the passphrase came from (for messages: "the passphrase of
 * sender:@example.com is wrong"), never the passphrase in words.
 */
export type PassphraseKey =
  | { kind: 'sender'; address: string }
  | { kind: 'domain'; domain: string }
  | { kind: 'inbox'; id: string }
  | { kind: 'server'; host: string };

export interface PassphraseRule {
  key: PassphraseKey;
  /** the key as written in the file, e.g. `sender:@example.com` */
  label: string;
  passphrase: string;
}

export interface PassphraseSettings {
  rules: readonly PassphraseRule[];
  /** DECRYPT_PASSPHRASE */
  fallback?: string;
}

export interface PackageOrigin {
  /** host[:port] of the Faspex server, as in the package's link */
  server: string;
  /** the sender's address as the Faspex server gives it */
  sender?: string;
  /** the inbox whose mail announced the package */
  inbox?: string;
}

export interface PassphraseChoice {
  passphrase: string;
  /** where it came from, for people: `DECRYPT_PASSPHRASE` or `DECRYPT_PASSPHRASES_FILE "sender:@example.com"` */
  source: string;
}

/** Reads a key of the file; undefined when it is not one of the four forms. */
export function parsePassphraseKey(text: string): PassphraseKey | undefined {
  const m = /^(server|sender|inbox):(.+)$/.exec(text.trim());
  if (!m) return undefined;
  const value = m[2]!.trim();
  if (m[1] === 'server') return /^[a-z0-9.-]+(?::\d{1,5})?$/i.test(value) ? { kind: 'server', host: value.toLowerCase() } : undefined;
  if (m[1] === 'inbox') return /^[a-z0-9][a-z0-9_-]{0,62}$/.test(value) ? { kind: 'inbox', id: value } : undefined;
  if (value.startsWith('@')) return /^@[^@\s]+\.[^@\s]+$/.test(value) ? { kind: 'domain', domain: value.slice(1).toLowerCase() } : undefined;
  return /^[^@\s]+@[^@\s]+$/.test(value) ? { kind: 'sender', address: value.toLowerCase() } : undefined;
}

const RANK: Record<PassphraseKey['kind'], number> = { sender: 0, domain: 1, inbox: 2, server: 3 };

function matches(key: PassphraseKey, origin: PackageOrigin): boolean {
  const sender = origin.sender?.trim().toLowerCase();
  switch (key.kind) {
    case 'sender': return sender === key.address;
    case 'domain': return sender !== undefined && sender.endsWith(`@${key.domain}`);
    case 'inbox': return origin.inbox === key.id;
    case 'server': {
      const server = origin.server.toLowerCase();
      // `server:host` covers every port of it; `server:host:port` only that one
      return key.host.includes(':') ? server === key.host : server === key.host || server.startsWith(`${key.host}:`);
    }
  }
}

export function choosePassphrase(settings: PassphraseSettings, origin: PackageOrigin): PassphraseChoice | undefined {
  const best = settings.rules
    .filter((r) => matches(r.key, origin))
    // among two server rules, the one with a port is the more specific
    .sort((a, b) => RANK[a.key.kind] - RANK[b.key.kind] || Number(b.label.split(':').length) - Number(a.label.split(':').length))[0];
  if (best) return { passphrase: best.passphrase, source: `DECRYPT_PASSPHRASES_FILE "${best.label}"` };
  if (settings.fallback !== undefined && settings.fallback !== '') return { passphrase: settings.fallback, source: 'DECRYPT_PASSPHRASE' };
  return undefined;
}

/** The settings a person could add for this package, most specific first (for PASSPHRASE_MISSING). */
export function passphraseAdvice(origin: PackageOrigin): string {
  const keys: string[] = [];
  const sender = origin.sender?.trim().toLowerCase();
  if (sender && /^[^@\s]+@[^@\s]+$/.test(sender)) keys.push(`"sender:${sender}"`, `"sender:@${sender.split('@')[1]}"`);
  if (origin.inbox) keys.push(`"inbox:${origin.inbox}"`);
  keys.push(`"server:${origin.server.toLowerCase()}"`);
  return `set DECRYPT_PASSPHRASE (or DECRYPT_PASSPHRASE_FILE), or give DECRYPT_PASSPHRASES_FILE an entry for ${keys.join(', ')}; or set DECRYPT=never to keep the files encrypted on purpose`;
}
