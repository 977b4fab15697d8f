/**
 * Caps on concurrent transfers, per Faspex server and per transfer host (the HSTS node ascp
 * connects to), and what a "too many sessions" answer does to them. Pure: the settings, the
 * decisions and the wait; transfer-slots.ts holds the counts in Redis.
 *
 * Servers limit sessions per account: ten workers starting ten transfers against one server get
 * refused, and the retries would burn attempts. So a job over its cap waits (delayed, no
 * attempt spent), and a server that refuses anyway gets a lower cap for a while.
 */
import type { IngestError } from '../errors.js';

export type CapScope = 'server' | 'transfer-host';

export interface CapSettings {
  /** FASPEX_MAX_TRANSFERS_PER_SERVER: every Faspex server without its own value */
  perServer: number | undefined;
  /** FASPEX_MAX_TRANSFERS: host[:port] → cap */
  servers: Readonly<Record<string, number>>;
  /** TRANSFER_MAX_PER_HOST: every transfer host without its own value */
  perTransferHost: number | undefined;
  /** TRANSFER_MAX: host → cap */
  transferHosts: Readonly<Record<string, number>>;
  /** how long a cap lowered after a refusal stays lowered */
  loweredForMs: number;
}

export const NO_CAPS: CapSettings = { perServer: undefined, servers: {}, perTransferHost: undefined, transferHosts: {}, loweredForMs: 300_000 };

/** `host=2,other.example.com:8443=5` → { host: 2, 'other.example.com:8443': 5 }. */
export function parseCapList(raw: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9.-]+(?::\d{1,5})?)\s*=\s*(\d+)$/.exec(item);
    if (!m) throw new Error(`"${item}" is not host=number (e.g. faspex.example.com=2)`);
    const cap = Number(m[2]);
    if (cap < 1 || cap > 1000) throw new Error(`"${item}": a cap is 1 to 1000 transfers`);
    const host = m[1]!.toLowerCase();
    if (host in out) throw new Error(`"${host}" is given twice`);
    out[host] = cap;
  }
  if (Object.keys(out).length === 0) throw new Error('lists no host=number');
  return out;
}

/**
 * The configured cap for one host, undefined for none. `host` may carry a port: an entry with
 * the port wins over one for the bare host name, which wins over the default.
 */
export function capFor(settings: CapSettings, scope: CapScope, host: string): number | undefined {
  const list = scope === 'server' ? settings.servers : settings.transferHosts;
  const h = host.toLowerCase();
  const bare = h.replace(/:\d+$/, '');
  return list[h] ?? list[bare] ?? (scope === 'server' ? settings.perServer : settings.perTransferHost);
}

/** The key part naming a host: lower case, the port kept (two Faspex on one host are two servers). */
export function capKey(host: string): string {
  return host.toLowerCase();
}

/** Which cap a failure says is too high: ascp 69 MAX_ASCP is the transfer host's, HTTP 429 the Faspex server's. */
export function busyRefusal(err: Pick<IngestError, 'details'>): CapScope | undefined {
  if (err.details.ascpCode === 69) return 'transfer-host';
  if (err.details.status === 429) return 'server';
  return undefined;
}

/**
 * After a refusal while `holders` transfers (this one included) held slots on that host: the
 * server took `holders - 1`, so that is its limit for now. A refusal of the only transfer is no
 * concurrency matter: it fails like any transient error (an attempt is spent), so a server that
 * refuses everything cannot keep a package waiting forever.
 */
export function afterRefusal(holders: number, current: number | undefined): { lowerTo: number } | { fail: true } {
  if (holders <= 1) return { fail: true };
  const lowerTo = Math.max(1, holders - 1);
  return { lowerTo: current === undefined ? lowerTo : Math.min(current, lowerTo) };
}

/** A capped job comes back after 1 to 3 s: soon enough to fill a freed slot, spread so waiters do not arrive in step. */
export function capWaitMs(random: () => number = Math.random): number {
  return 1000 + Math.floor(random() * 2000);
}
