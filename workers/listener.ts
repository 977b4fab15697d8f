/**
 * The mail role: for every inbox (MAILBOXES_FILE, or the one of the IMAP_* variables), one IMAP
 * connection idling on its folder, every package link of every new mail queued as one download
 * job. Entry for `faspex-ingest listen` and part of `run`. Each inbox is read under a lease in
 * Redis (src/mail/inbox-runner.ts): a second `listen` for the same inbox waits as a standby and
 * takes over within LISTENER_LEASE_SECONDS of this one's death.
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
 * - One inbox failing (wrong password, server down) never stops the others: each reconnects on
 *   its own, and health names the ones that are not connected.
 * - A listener paused past its lease (GC, SIGSTOP) stops its IMAP work on waking; its enqueue and
 *   progress writes are refused by Redis once a standby holds the lease.
 */
import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import { inboxLabel, type InboxConfig } from '../src/config/inbox.js';
import { describeImapAuth } from '../src/mail/imap-auth/auth-config.js';
import { createImapAuthSource } from '../src/mail/imap-auth/token-source.js';
import { InboxRunner } from '../src/mail/inbox-runner.js';
import { InboxStatusPublisher } from '../src/mail/inbox-status.js';
import { downloadJobOptions } from '../src/queue/producer.js';
import { QUEUE, type DownloadJobData } from '../src/queue/queues.js';
import type { Role } from '../src/service/role.js';
import type { ServiceContext } from '../src/service/service-context.js';
import { startSweepers } from '../src/sweep/sweepers.js';
import type { Faspex5MailTrigger } from '../src/mail/types.js';

export async function startListener(ctx: ServiceContext): Promise<Role & { inboxes: InboxRunner[] }> {
  const { config } = ctx;
  if (config.inboxes.length === 0) throw new Error('no inbox to watch: set IMAP_HOST (and IMAP_USER, IMAP_PASSWORD), MAIL_SOURCE=graph (and GRAPH_*) or MAILBOXES_FILE');
  const log = ctx.logger.child({ role: 'listener' });
  const owner = `${hostname()}:${process.pid}`;
  // Faspex 5 boxes are swept by the processes that read mail (src/sweep/), each box by one of
  // them; a mail from such a server asks for a sweep at once
  const sweepers = startSweepers({
    config, logger: ctx.logger, connect: () => ctx.connect('producer'), redis: ctx.redis,
    onMissedByMail: (server, count) => ctx.metrics.packagesMissedByMail.inc({ server }, count),
  });
  for (const b of sweepers?.boxes ?? []) ctx.metrics.packagesMissedByMail.inc({ server: b.server }, 0);
  const started = config.inboxes.map((inbox) => startInbox(ctx, inbox, owner, log, sweepers?.trigger));
  log.info({ inboxes: config.inboxes.map((i) => i.id), leaseSeconds: config.listener.leaseMs / 1000 }, 'listening');
  return {
    name: 'listener',
    inboxes: started.map((s) => s.runner),
    stop: async () => {
      await Promise.all([...started.map((s) => s.stop()), sweepers?.stop()]);
    },
    health: () => {
      const parts = started.map(({ runner }) => {
        const s = runner.status();
        if (s.role !== 'active') return { ok: true, detail: `${s.inbox}: standby${s.holder ? ` (read by ${s.holder.replace(/^\d+ /, '')})` : ''}` };
        const l = s.listener;
        if (s.source === 'graph') {
          if (l?.connected) return { ok: true, detail: `${s.inbox}: Microsoft Graph reading; last delta ${l.lastSyncAt ?? '-'}${l.note ? `; ${l.note}` : ''}` };
          return { ok: false, detail: `${s.inbox}: ${l?.lastError ? `Microsoft Graph not reading: ${l.lastError}` : 'Microsoft Graph not reading yet'}` };
        }
        if (l?.connected) return { ok: true, detail: `${s.inbox}: IMAP connected; last UID ${l.lastUid ?? '-'}` };
        return { ok: false, detail: `${s.inbox}: ${l?.lastError ? `IMAP not connected: ${l.lastError}` : 'IMAP not connected yet'}` };
      });
      // each Faspex 5 box this process sweeps: its last sweep, outcome, packages seen, login refused
      for (const b of sweepers?.boxes ?? []) {
        const l = b.last;
        if (!l) continue;
        const when = l.lastSweepAt ? new Date(l.lastSweepAt).toISOString() : 'never';
        if (l.loginRefused) parts.push({ ok: false, detail: `faspex5 ${l.server} ${l.box}: login refused: ${l.loginRefused}` });
        else if (l.outcome === 'failed') parts.push({ ok: false, detail: `faspex5 ${l.server} ${l.box}: last sweep ${when} failed: ${l.error ?? ''}` });
        else parts.push({ ok: true, detail: `faspex5 ${l.server} ${l.box}: last sweep ${when} ok, ${l.seen ?? 0} package(s) seen` });
      }
      return { ok: parts.every((p) => p.ok), detail: parts.map((p) => p.detail).join('; ') };
    },
  };
}

/** One inbox: its runner, connections of its own, and its status record while it reads mail. */
function startInbox(ctx: ServiceContext, inbox: InboxConfig, owner: string, log: ServiceContext['logger'], faspex5?: Faspex5MailTrigger) {
  const { config, metrics } = ctx;
  // The fenced enqueue WATCHes on its connection: it must not be shared with another caller.
  const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: ctx.connect('producer'), prefix: config.redis.prefix });
  queue.on('error', (err: Error) => log.warn({ err: err.message, inbox: inbox.id }, 'queue error'));
  const redis = ctx.connect('worker');
  const imapAuth = inbox.source === 'graph' ? inbox.graph.auth : inbox.imap.auth ?? { kind: 'password' as const, user: inbox.imap.user, password: inbox.imap.password };
  // one token source per inbox, its tokens shared through Redis with a standby or a restart (Graph: the same code, Graph's scope)
  const auth = createImapAuthSource({
    auth: imapAuth, caFile: inbox.source === 'graph' ? inbox.graph.caFile : inbox.imap.tls?.caFile, redis, prefix: config.redis.prefix, logger: log.child({ inbox: inbox.id }),
    timeoutMs: config.faspex.timeoutMs, proxy: config.proxy,
  });
  if (imapAuth.kind === 'oauth2') log.info({ inbox: inbox.id }, `mailbox login: ${describeImapAuth(imapAuth)}${inbox.source === 'graph' ? ' for Microsoft Graph' : ''}`);
  const runner = new InboxRunner({
    auth,
    faspex5,
    http: { timeoutMs: config.faspex.timeoutMs, proxy: config.proxy },
    inbox,
    redis,
    queue,
    jobOptions: downloadJobOptions(config.workers),
    replicas: ctx.target.replicaAcks > 0 ? { count: ctx.target.replicaAcks, timeoutMs: 3000 } : undefined,
    prefix: config.redis.prefix,
    leaseMs: config.listener.leaseMs,
    owner,
    logger: log,
  });
  // Only the process reading the inbox speaks for it (src/mail/inbox-status.ts); a standby's
  // record would overwrite the active listener's.
  let status: InboxStatusPublisher | undefined;
  const publish = (apply: (p: InboxStatusPublisher) => unknown) => {
    if (status) void apply(status);
  };
  runner.on('active', () => {
    status = new InboxStatusPublisher({
      redis: ctx.redis,
      prefix: config.redis.prefix,
      inbox: inbox.id,
      label: inboxLabel(inbox),
      source: inbox.source === 'graph' ? 'graph' : 'imap',
      onError: (err) => log.debug({ err, inbox: inbox.id }, 'could not publish the inbox status'),
    });
  });
  runner.on('lease-lost', () => {
    status?.detach();
    status = undefined;
  });
  runner.on('connected', ({ idle }) => publish((p) => p.apply({ type: 'connected', idle })));
  runner.on('disconnected', ({ reason }) => publish((p) => p.apply({ type: 'disconnected', reason })));
  runner.on('backlog', ({ count }) => publish((p) => p.apply({ type: 'backlog', count })));
  runner.on('synced', () => publish((p) => p.apply({ type: 'synced' })));
  // the listener already decides which mails failed: count its verdict rather than repeat its list
  runner.on('mail-failed', (report) => metrics.mailsFailed.inc({ reason: report.outcome }));
  runner.on('mail', (report) => {
    metrics.mailsRead.inc();
    metrics.linksFound.inc(report.links);
    const queued = report.outcome === 'queued';
    if (queued && report.receivedAt) metrics.mailQueueLatency.observe(Math.max(0, (Date.now() - report.receivedAt.getTime()) / 1000));
    publish((p) => p.apply({ type: 'mail', queued }));
  });
  runner.start();
  return {
    runner,
    async stop() {
      // the last word first: once the lease is given up, a standby's record must not be overwritten
      const last = status;
      status = undefined;
      await last?.stop();
      await runner.stop();
      await auth.close();
      await queue.close();
    },
  };
}
