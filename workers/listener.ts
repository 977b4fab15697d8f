/**
 * The mail role: one IMAP connection idling on IMAP_MAILBOX, every package link of every new
 * mail queued as one download job. Entry for `faspex-ingest listen` and part of `run`.
 *
 * Failure contract:
 * - A mail is marked handled (its UID recorded in Redis, a keyword set where allowed) only
 *   after its jobs are in Redis; a crash before that reads it again, and the deterministic job
 *   ids make the second read queue nothing new. New mail is handled per chunk of UIDs: nothing
 *   of a chunk is marked before the jobs of all its mails are in Redis, and a crash mid-chunk
 *   reads the whole chunk again.
 * - IMAP disconnects (server restart, network) reconnect on their own with capped backoff; mail
 *   that arrived meanwhile is caught up by UID. A periodic resync covers missed notifications.
 * - A mail that cannot be parsed is recorded with its reason and skipped; it never stops the
 *   listener and is never retried forever; nor is a mail whose reading keeps killing the
 *   connection (given up after 3 reads that died, read alone so its neighbours are not blamed).
 * - Redis down: nothing is marked handled; the batch is retried after backoff.
 * - Links to hosts outside FASPEX_ALLOWED_HOSTS are recorded as refused, never queued.
 */
import { DEFAULT_INBOX_ID, InboxStatusPublisher } from '../src/mail/inbox-status.js';
import { MailListener } from '../src/mail/listener.js';
import { downloadJobOptions, enqueueDownloads } from '../src/queue/producer.js';
import type { Role } from '../src/service/role.js';
import type { ServiceContext } from '../src/service/service-context.js';

export async function startListener(ctx: ServiceContext): Promise<Role & { listener: MailListener }> {
  const { config, metrics } = ctx;
  if (!config.imap) throw new Error('IMAP_HOST is not set');
  const jobOptions = downloadJobOptions(config.workers);
  const log = ctx.logger.child({ role: 'listener' });
  // Health for the dashboard and /metrics, wherever they run (src/mail/inbox-status.ts).
  const inbox = new InboxStatusPublisher({
    redis: ctx.redis,
    prefix: config.redis.prefix,
    inbox: DEFAULT_INBOX_ID,
    label: `${config.imap.user}@${config.imap.host}/${config.imap.mailbox}`,
    onError: (err) => log.debug({ err }, 'could not publish the inbox status'),
  });
  const listener = new MailListener({
    imap: config.imap,
    redis: ctx.connect('worker'),
    prefix: config.redis.prefix,
    enqueue: (items) => enqueueDownloads(ctx.queues.downloads, items, jobOptions),
    allowlist: config.faspex.allowedHosts,
    maxLinks: config.mail.maxLinks,
    senderPolicy:
      config.mail.allowedForwarders && config.mail.authservId
        ? { allowedForwarders: config.mail.allowedForwarders, authservId: config.mail.authservId }
        : undefined,
    logger: log,
    events: {
      connected: ({ idle }) => void inbox.apply({ type: 'connected', idle }),
      disconnected: ({ reason }) => void inbox.apply({ type: 'disconnected', reason }),
      backlog: ({ count }) => void inbox.apply({ type: 'backlog', count }),
      synced: () => void inbox.apply({ type: 'synced' }),
      mail: (report) => {
        metrics.mailsRead.inc();
        metrics.linksFound.inc(report.links);
        if (report.outcome === 'failed' || report.outcome === 'refused') metrics.mailsFailed.inc({ reason: report.outcome });
        const queued = report.outcome === 'queued';
        if (queued && report.receivedAt) metrics.mailQueueLatency.observe(Math.max(0, (Date.now() - report.receivedAt.getTime()) / 1000));
        void inbox.apply({ type: 'mail', queued });
      },
    },
  });
  listener.start();
  return {
    name: 'listener',
    listener,
    stop: async () => {
      await listener.stop();
      await inbox.stop();
    },
    health: () => {
      const s = listener.status();
      return s.connected ? { ok: true, detail: `IMAP connected; last UID ${s.lastUid ?? '-'}` } : { ok: false, detail: s.lastError ? `IMAP not connected: ${s.lastError}` : 'IMAP not connected yet' };
    },
  };
}
