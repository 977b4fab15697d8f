/**
 * The listener role publishes its inbox's health to Redis, and another process's reader (here:
 * a separate connection and a separate Metrics) sees it: connected over IDLE, the mail seen and
 * queued, the backlog, "listener stopped" after a stop, and "not connected" once a listener
 * stops refreshing its record without a word.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { DEFAULT_INBOX_ID, inboxStatusKey, readInboxStatuses, type InboxStatus } from '../../src/mail/inbox-status.js';
import { createMetrics } from '../../src/service/metrics.js';
import { targetFromUrl } from '../../src/service/redis-target.js';
import { openServiceContext, type ServiceContext } from '../../src/service/service-context.js';
import { startListener } from '../../workers/listener.js';
import { notification } from '../fixtures/mail/listener-harness.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ dovecot: Dovecot; ctx: ServiceContext; prefix: string; reader: Redis }> {
  const dir = tempDir('inbox-status');
  cleanups.push(() => dir.remove());
  const dovecot = await startDovecot();
  cleanups.push(() => dovecot.stop());
  const prefix = uniqueName('inbox');
  const config = loadConfig(
    {
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: prefix,
      DATA_DIR: join(dir.path, 'data'),
      DOWNLOAD_DIR: dir.path,
      IMAP_HOST: dovecot.host,
      IMAP_PORT: String(dovecot.imapPort),
      IMAP_SECURE: 'false',
      IMAP_USER: dovecot.user,
      IMAP_PASSWORD: dovecot.password,
      FASPEX_ALLOWED_HOSTS: 'faspex.example.com',
    },
    'listen',
  );
  const ctx = await openServiceContext(config, createLogger({ level: 'silent' }), targetFromUrl(inject('redisUrl')), createMetrics({ defaultMetrics: false }));
  cleanups.push(() => ctx.close());
  const reader = new Redis(inject('redisUrl'));
  cleanups.push(() => reader.quit());
  return { dovecot, ctx, prefix, reader };
}

const statusOf = async (reader: Redis, prefix: string): Promise<InboxStatus | undefined> => (await readInboxStatuses(reader, prefix)).find((s) => s.inbox === DEFAULT_INBOX_ID);

it('publishes connected, the mail seen and queued, then "listener stopped"', async () => {
  const { dovecot, ctx, prefix, reader } = await setup();
  const role = await startListener(ctx);
  let stopped = false;
  cleanups.push(() => (stopped ? undefined : role.stop()));

  const connected = await waitFor(async () => {
    const s = await statusOf(reader, prefix);
    return s?.connected ? s : undefined;
  }, { what: 'the inbox to read as connected' });
  expect(connected).toMatchObject({ mode: 'idle', label: `${dovecot.user}@${dovecot.host}/INBOX`, backlog: 0 });
  expect(connected.reason).toBeUndefined();
  expect(connected.lastMailSeenAt).toBeUndefined();

  const before = Date.now();
  await dovecot.deliver(notification(301));
  const seen = await waitFor(async () => {
    const s = await statusOf(reader, prefix);
    return s?.lastMailQueuedAt ? s : undefined;
  }, { what: 'the mail to be recorded as queued' });
  expect(Date.parse(seen.lastMailSeenAt!)).toBeGreaterThanOrEqual(before - 1000);
  expect(seen.lastMailQueuedAt).toBe(seen.lastMailSeenAt);
  expect(seen.backlog).toBe(0);

  // Another process's /metrics: its own Metrics, reading the same Redis.
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.watchState({ inboxes: { redis: reader, prefix }, downloadDir: ctx.config.downloads.dir });
  const text = await metrics.registry.metrics();
  expect(text).toContain(`faspex_ingest_inbox_connected{inbox="${DEFAULT_INBOX_ID}"} 1`);
  expect(text).toContain(`faspex_ingest_inbox_mode{inbox="${DEFAULT_INBOX_ID}",mode="idle"} 1`);
  expect(text).toContain(`faspex_ingest_inbox_backlog{inbox="${DEFAULT_INBOX_ID}"} 0`);
  expect(text).toMatch(/faspex_ingest_inbox_last_mail_timestamp_seconds\{inbox="default"\} \d{10}/);
  expect(text).toMatch(/faspex_ingest_download_dir_free_bytes [1-9]\d*/);
  // The latency histogram is the listener process's own.
  expect(await ctx.metrics.registry.getSingleMetricAsString('faspex_ingest_mail_queue_latency_seconds')).toMatch(/faspex_ingest_mail_queue_latency_seconds_count 1/);

  await role.stop();
  stopped = true;
  expect(await statusOf(reader, prefix)).toMatchObject({ connected: false, reason: 'listener stopped' });
  expect(await metrics.registry.metrics()).toContain(`faspex_ingest_inbox_connected{inbox="${DEFAULT_INBOX_ID}"} 0`);

  // A restarted listener knows when mail was last seen: it is not "never" after every restart.
  const again = await startListener(ctx);
  cleanups.push(() => again.stop());
  const back = await waitFor(async () => {
    const s = await statusOf(reader, prefix);
    return s?.connected ? s : undefined;
  }, { what: 'the restarted listener to connect' });
  expect([back.lastMailSeenAt, back.lastMailQueuedAt]).toEqual([seen.lastMailSeenAt, seen.lastMailQueuedAt]);
});

it('a record nobody refreshes reads as not connected, in the reader and in /metrics', async () => {
  const { prefix, reader } = await setup();
  // What a listener killed with SIGKILL leaves behind: "connected", and a staleAt in the past.
  const dead: InboxStatus = { inbox: 'crashed', label: 'x@y/INBOX', connected: true, mode: 'idle', backlog: 4, updatedAt: new Date(Date.now() - 120_000).toISOString(), staleAt: new Date(Date.now() - 75_000).toISOString() };
  await reader.hset(inboxStatusKey(prefix), 'crashed', JSON.stringify(dead), 'garbage', '{not json');
  const [s] = await readInboxStatuses(reader, prefix);
  expect(s).toMatchObject({ inbox: 'crashed', connected: false, backlog: 4 });
  expect(s!.reason).toMatch(/^no word from its listener since /);
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.watchState({ inboxes: { redis: reader, prefix } });
  expect(await metrics.registry.metrics()).toContain('faspex_ingest_inbox_connected{inbox="crashed"} 0');
});
