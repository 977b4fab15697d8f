/**
 * Gauges read at scrape time from shared state rather than counted by this process: inbox health
 * (published to Redis by whichever process runs the listener) and DOWNLOAD_DIR's free space.
 * Any process that serves /metrics reports the same values; an inbox whose listener died reads
 * as disconnected (inbox-status.ts), so "listener disconnected for N minutes" alerts fire.
 */
import { statfs } from 'node:fs/promises';
import { Gauge, type Registry } from 'prom-client';
import { readInboxStatuses, type InboxMode } from '../mail/inbox-status.js';
import type { RedisClient } from '../queue/connection.js';

export interface StateSources {
  /** where inbox statuses are read from */
  inboxes?: { redis: RedisClient; prefix: string };
  /** DOWNLOAD_DIR */
  downloadDir?: string;
}

const MODES: readonly InboxMode[] = ['idle', 'poll', 'standby'];

export function registerStateGauges(registers: Registry[], name: (n: string) => string, timeoutMs: number): { watch(sources: StateSources): void } {
  let sources: StateSources = {};
  const inboxLabels = ['inbox'] as const;

  // One read of Redis per scrape feeds all inbox gauges: a scrape starts every gauge's collect()
  // in the same tick, so the first one reads and the others share its answer until it settles.
  let snapshot: Promise<Awaited<ReturnType<typeof readInboxStatuses>>> | undefined;
  const inboxes = () => {
    const src = sources.inboxes;
    if (!src) return Promise.resolve([]);
    snapshot ??= withTimeout(readInboxStatuses(src.redis, src.prefix), timeoutMs).finally(() => (snapshot = undefined));
    return snapshot.catch(() => []);
  };
  const perInbox = (metric: string, help: string, value: (s: Awaited<ReturnType<typeof inboxes>>[number]) => number | undefined) =>
    new Gauge({
      name: name(metric),
      help,
      labelNames: inboxLabels,
      registers,
      async collect() {
        this.reset();
        for (const s of await inboxes()) {
          const v = value(s);
          if (v !== undefined && Number.isFinite(v)) this.set({ inbox: s.inbox }, v);
        }
      },
    });
  const seconds = (iso: string | undefined) => (iso ? Date.parse(iso) / 1000 : undefined);

  perInbox('inbox_connected', '1 while the inbox listener is connected to its mail server, IMAP or Microsoft Graph (0 when its listener stopped reporting)', (s) => (s.connected ? 1 : 0));
  perInbox('inbox_last_mail_timestamp_seconds', 'When the listener last read a mail from the inbox (Unix time)', (s) => seconds(s.lastMailSeenAt));
  perInbox('inbox_last_queued_timestamp_seconds', 'When a mail of the inbox last queued a package (Unix time)', (s) => seconds(s.lastMailQueuedAt));
  perInbox('inbox_backlog', 'Mails in the inbox not yet handled, as of the listener\'s last look', (s) => s.backlog);
  new Gauge({
    name: name('inbox_mode'),
    help: '1 for the inbox\'s current mode: idle (IMAP IDLE), poll (an IMAP server without IDLE, or Microsoft Graph) or standby',
    labelNames: ['inbox', 'mode'] as const,
    registers,
    async collect() {
      this.reset();
      for (const s of await inboxes()) for (const mode of MODES) this.set({ inbox: s.inbox, mode }, s.mode === mode ? 1 : 0);
    },
  });

  // Both disk gauges share one statfs per scrape, as the inbox gauges share one read.
  let fsSnapshot: Promise<Awaited<ReturnType<typeof statfs>> | undefined> | undefined;
  const filesystem = (dir: string) =>
    // A missing folder (nothing downloaded yet) leaves the series out rather than reporting 0.
    (fsSnapshot ??= statfs(dir).catch(() => undefined).finally(() => (fsSnapshot = undefined)));
  const disk = (metric: string, help: string, pick: (f: Awaited<ReturnType<typeof statfs>>) => number) =>
    new Gauge({
      name: name(metric),
      help,
      registers,
      async collect() {
        this.reset();
        if (!sources.downloadDir) return;
        const fs = await filesystem(sources.downloadDir);
        if (fs) this.set(pick(fs));
      },
    });
  disk('download_dir_free_bytes', 'Bytes available to this process in DOWNLOAD_DIR\'s filesystem', (f) => Number(f.bavail) * Number(f.bsize));
  disk('download_dir_size_bytes', 'Size of DOWNLOAD_DIR\'s filesystem', (f) => Number(f.blocks) * Number(f.bsize));

  return {
    watch(next) {
      sources = { ...sources, ...next };
    },
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
