/**
 * Per-inbox health, as the listener sees it, published to Redis so the dashboard and /metrics
 * can show it from any process:
 *   <prefix>:inbox-status    hash  <inbox id> → JSON InboxStatus
 * One hash under the configured prefix, so in Redis Cluster it lives in the prefix's slot.
 *
 * The listener role owns the writes (InboxStatusPublisher, fed from the listener's events); the
 * record carries `staleAt`, refreshed by a heartbeat, so a reader can tell a listener that died
 * without saying so: past `staleAt` the inbox reads as not connected, whatever it last said.
 * The reducer and the staleness rule are pure (table-driven tests); the publisher and reader
 * are the Redis edge.
 */
import type { Cluster, Redis } from 'ioredis';
import { maskText } from '../log/secrets.js';

/** The id of the one inbox configured by IMAP_* (MAILBOXES_FILE gives each inbox its own). */
export const DEFAULT_INBOX_ID = 'default';

/** idle: IMAP IDLE pushes new mail; poll: the server has no IDLE; standby: another listener holds the inbox */
export type InboxMode = 'idle' | 'poll' | 'standby';
export type InboxSource = 'imap' | 'graph';

export interface InboxStatus {
  inbox: string;
  /** user@host/mailbox, for people */
  label: string;
  /** how it is read; absent in a record written before Graph inboxes: IMAP */
  source?: InboxSource | undefined;
  connected: boolean;
  /** why it is not connected (masked) */
  reason?: string | undefined;
  mode: InboxMode;
  lastMailSeenAt?: string | undefined;
  lastMailQueuedAt?: string | undefined;
  /** mails in the folder not yet handled, as of the last look */
  backlog: number;
  updatedAt: string;
  /** past this instant nobody vouches for the record: read it as not connected */
  staleAt: string;
}

export type InboxEvent =
  | { type: 'connected'; idle: boolean }
  | { type: 'disconnected'; reason: string }
  | { type: 'mail'; queued: boolean }
  | { type: 'backlog'; count: number }
  | { type: 'synced' }
  | { type: 'standby'; reason?: string }
  | { type: 'stopped' }
  | { type: 'heartbeat' };

export function initialStatus(inbox: string, label: string, now: Date, ttlMs: number, source: InboxSource = 'imap'): InboxStatus {
  return { inbox, label, source, connected: false, reason: 'connecting', mode: 'idle', backlog: 0, updatedAt: now.toISOString(), staleAt: new Date(now.getTime() + ttlMs).toISOString() };
}

/** The status after an event. Pure. */
export function applyInboxEvent(status: InboxStatus, event: InboxEvent, now: Date, ttlMs: number): InboxStatus {
  const at = now.toISOString();
  const next: InboxStatus = { ...status, updatedAt: at, staleAt: new Date(now.getTime() + ttlMs).toISOString() };
  switch (event.type) {
    case 'connected':
      return { ...next, connected: true, reason: undefined, mode: event.idle ? 'idle' : 'poll' };
    case 'disconnected':
      return { ...next, connected: false, reason: maskText(event.reason) };
    case 'mail':
      return { ...next, lastMailSeenAt: at, ...(event.queued ? { lastMailQueuedAt: at } : {}), backlog: Math.max(0, next.backlog - 1) };
    case 'backlog':
      return { ...next, backlog: Math.max(0, event.count) };
    case 'synced':
      return { ...next, backlog: 0 };
    case 'standby':
      return { ...next, connected: false, mode: 'standby', reason: maskText(event.reason ?? 'standby: another listener holds this inbox') };
    case 'stopped':
      return { ...next, connected: false, reason: 'listener stopped' };
    case 'heartbeat':
      return next;
  }
}

/**
 * A new publisher (a restart, a takeover by the standby) starts from what the last one knew of
 * the inbox's mail, so "last mail seen" survives it; connection facts are its own. Pure.
 */
export function carryOver(fresh: InboxStatus, previous: Partial<InboxStatus> | undefined): InboxStatus {
  if (!previous) return fresh;
  return { ...fresh, lastMailSeenAt: fresh.lastMailSeenAt ?? previous.lastMailSeenAt, lastMailQueuedAt: fresh.lastMailQueuedAt ?? previous.lastMailQueuedAt };
}

/** What a reader should believe at `now`: a record nobody refreshed reads as not connected. Pure. */
export function effectiveStatus(status: InboxStatus, now: Date): InboxStatus {
  if (now.getTime() <= Date.parse(status.staleAt)) return status;
  return { ...status, connected: false, reason: `no word from its listener since ${status.updatedAt}` };
}

export function inboxStatusKey(prefix: string): string {
  return `${prefix}:inbox-status`;
}

/** Every inbox's effective status, by id order. Records that do not parse are left out. */
export async function readInboxStatuses(redis: Redis | Cluster, prefix: string, now = new Date()): Promise<InboxStatus[]> {
  const all = await redis.hgetall(inboxStatusKey(prefix));
  const out: InboxStatus[] = [];
  for (const value of Object.values(all)) {
    try {
      const s = JSON.parse(value) as InboxStatus;
      if (typeof s.inbox === 'string' && typeof s.staleAt === 'string') out.push(effectiveStatus(s, now));
    } catch {
      // a half-written or foreign field says nothing about an inbox
    }
  }
  return out.sort((a, b) => a.inbox.localeCompare(b.inbox));
}

export interface PublisherOptions {
  redis: Redis | Cluster;
  prefix: string;
  inbox: string;
  label: string;
  source?: InboxSource;
  /** how often the record is refreshed while nothing happens (default 15 s) */
  heartbeatMs?: number;
  onError?: (err: unknown) => void;
  now?: () => Date;
}

/**
 * Keeps one inbox's record current. Writes are serialised and coalesced (the latest status
 * wins), so a burst of mail events costs a few HSETs, never an unbounded queue of them.
 */
export class InboxStatusPublisher {
  private status: InboxStatus;
  private readonly ttlMs: number;
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> | undefined;
  private pending = false;
  private readonly loaded: Promise<void>;

  constructor(private readonly options: PublisherOptions) {
    const heartbeat = options.heartbeatMs ?? 15_000;
    // three missed heartbeats before a reader gives up on the listener
    this.ttlMs = heartbeat * 3;
    this.status = initialStatus(options.inbox, options.label, this.now(), this.ttlMs, options.source);
    this.timer = setInterval(() => this.apply({ type: 'heartbeat' }), heartbeat);
    this.timer.unref();
    this.loaded = this.options.redis
      .hget(inboxStatusKey(options.prefix), options.inbox)
      .then((raw) => {
        this.status = carryOver(this.status, raw ? (JSON.parse(raw) as Partial<InboxStatus>) : undefined);
      })
      .catch(() => undefined);
    void this.flush();
  }

  current(): InboxStatus {
    return this.status;
  }

  apply(event: InboxEvent): Promise<void> {
    this.status = applyInboxEvent(this.status, event, this.now(), this.ttlMs);
    return this.flush();
  }

  /** The last word: "stopped", written before the connection closes. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.apply({ type: 'stopped' });
  }

  /** Stops the heartbeat without a last word: another process now speaks for this inbox. */
  detach(): void {
    clearInterval(this.timer);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private flush(): Promise<void> {
    this.pending = true;
    this.writing ??= (async () => {
      try {
        await this.loaded;
        while (this.pending) {
          this.pending = false;
          await this.options.redis.hset(inboxStatusKey(this.options.prefix), this.options.inbox, JSON.stringify(this.status)).catch((err: unknown) => this.options.onError?.(err));
        }
      } finally {
        this.writing = undefined;
      }
    })();
    return this.writing;
  }
}
