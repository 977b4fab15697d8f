/**
 * One inbox under a lease: wait as a standby until this process holds the inbox's lease, then
 * run a MailListener whose writes that matter are fenced by it (enqueue, progress; marks come
 * after the fenced progress and check the lease first), and stop that listener's IMAP work the
 * moment the lease is lost, then wait again. A graceful stop gives the lease up, so a standby
 * takes over without waiting for it to expire. Every event carries the inbox id.
 */
import { EventEmitter } from 'node:events';
import type { JobsOptions, Queue } from 'bullmq';
import type { InboxConfig } from '../config/inbox.js';
import { LeaseKeeper, type HeldLease } from '../lease/lease-keeper.js';
import { leaseTimings } from '../lease/lease-policy.js';
import { RedisLeaseStore } from '../lease/lease-store.js';
import type { Logger } from '../log/logger.js';
import type { RedisClient } from '../queue/connection.js';
import { enqueueDownloads } from '../queue/producer.js';
import type { DownloadJobData } from '../queue/queues.js';
import type { ImapAuthSource } from './imap-auth/token-source.js';
import type { ProxySettings } from '../http/proxy.js';
import { createGraphReader } from './graph/graph-reader.js';
import { imapTlsOptions } from './imap-tls.js';
import { MailListener } from './listener.js';
import type { Faspex5MailTrigger, MailListenerEvents, MailListenerStatus, MailListenerTuning } from './types.js';
import { firstAbort } from '../abortable-wait.js';

/** What reads one inbox while the lease is held: the IMAP listener, or the polling reader of a Graph mailbox. */
interface InboxReader {
  start(): void;
  stop(options?: { now?: boolean }): Promise<void>;
  status(): MailListenerStatus & { note?: string | undefined };
}

type WithInbox<T> = T extends [infer E] ? [E & { inbox: string }] : never;

export type InboxRunnerEvents = { [K in keyof MailListenerEvents]: WithInbox<MailListenerEvents[K]> } & {
  /** another process holds the lease; this one waits */
  standby: [{ inbox: string; holder: string }];
  /** this process holds the lease and starts reading mail */
  active: [{ inbox: string; token: number }];
  /** the lease was lost while reading: IMAP work stopped, back to standby */
  'lease-lost': [{ inbox: string; reason: string }];
};

export interface InboxRunnerStatus {
  inbox: string;
  role: 'standby' | 'active' | 'stopped';
  /** the lease value of whoever reads the inbox ("<token> <host>:<pid>"), when known */
  holder: string | undefined;
  listener: (MailListenerStatus & { note?: string | undefined }) | undefined;
  /** how the inbox is read */
  source: 'imap' | 'graph';
}

export interface InboxRunnerDeps {
  inbox: InboxConfig;
  /** for the lease and the mailbox progress */
  redis: RedisClient;
  /** on a connection of this inbox's own: the fenced enqueue WATCHes on it */
  queue: Queue<DownloadJobData>;
  jobOptions: JobsOptions;
  /** replicas that must hold a mail's jobs before it counts as handled (see producer.ts) */
  replicas?: { count: number; timeoutMs: number };
  prefix: string;
  leaseMs: number;
  /** names this process in the lease (host:pid) */
  owner: string;
  logger: Logger;
  tuning?: Partial<MailListenerTuning>;
  /** this inbox's login credentials (src/mail/imap-auth/token-source.ts); default: its password */
  auth?: ImapAuthSource | undefined;
  /** Faspex 5 servers whose mails ask for a sweep (src/sweep/mail-trigger.ts) */
  faspex5?: Faspex5MailTrigger | undefined;
  /** Graph requests: their deadline and proxy (Config.faspex.timeoutMs, Config.proxy) */
  http?: { timeoutMs: number; proxy?: ProxySettings | undefined };
}

export class InboxRunner extends EventEmitter<InboxRunnerEvents> {
  private readonly stopping = new AbortController();
  private readonly keeper: LeaseKeeper;
  private readonly log: Logger;
  private loopDone: Promise<void> | undefined;
  private listener: InboxReader | undefined;
  private lease: HeldLease | undefined;
  private holder: string | undefined;

  constructor(private readonly deps: InboxRunnerDeps) {
    super();
    const { inbox } = deps;
    // Each lease acquisition builds a MailListener, which reads IMAP_CA_FILE: fail here, at start,
    // with the file's problem, not later with the lease held and no listener to read the inbox.
    if (inbox.source !== 'graph') imapTlsOptions(inbox.imap.tls);
    this.log = deps.logger.child({ inbox: inbox.id });
    this.keeper = new LeaseKeeper({
      store: new RedisLeaseStore(deps.redis, deps.prefix, inbox.id),
      timings: leaseTimings(deps.leaseMs),
      owner: deps.owner,
      onStandby: ({ holder, retryInMs }) => {
        this.holder = holder;
        this.log.info({ holder, retryInMs }, 'standby: another listener reads this inbox');
        this.emit('standby', { inbox: inbox.id, holder });
      },
      onLost: (reason) => this.log.warn({ reason }, 'listener lease lost: stopping IMAP work for this inbox'),
      onError: (err) => this.log.warn({ err: (err as Error).message }, 'listener lease: Redis did not answer'),
    });
  }

  start(): void {
    this.loopDone ??= this.loop().catch((err: unknown) => this.log.error({ err }, 'inbox runner stopped unexpectedly'));
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loopDone;
  }

  status(): InboxRunnerStatus {
    const role = this.stopping.signal.aborted ? 'stopped' : this.lease && !this.lease.isLost ? 'active' : 'standby';
    return { inbox: this.deps.inbox.id, role, holder: this.lease?.holder ?? this.holder, listener: this.listener?.status(), source: this.deps.inbox.source === 'graph' ? 'graph' : 'imap' };
  }

  private async loop(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const lease = await this.keeper.acquire(this.stopping.signal);
      if (!lease) return;
      this.lease = lease;
      this.holder = lease.holder;
      this.log.info({ token: lease.token }, 'this listener now reads the inbox');
      this.emit('active', { inbox: this.deps.inbox.id, token: lease.token });
      let listener: InboxReader;
      try {
        listener = this.newListener(lease);
      } catch (err) {
        // the loop ends here: a lease kept renewing by a dead loop would lock a standby out for good
        await lease.release();
        throw err;
      }
      this.listener = listener;
      listener.start();
      await firstAbort(lease.signal, this.stopping.signal);
      if (lease.isLost) {
        const reason = (lease.signal.reason as Error).message;
        this.emit('lease-lost', { inbox: this.deps.inbox.id, reason });
        // promptly: close the connection mid-command rather than finish the chunk (its writes would be refused anyway)
        await listener.stop({ now: true });
      } else {
        await listener.stop();
        await lease.release();
      }
      this.listener = undefined;
      this.lease = undefined;
    }
  }

  private newListener(lease: HeldLease): InboxReader {
    const { inbox, queue, jobOptions } = this.deps;
    const relay = <K extends keyof MailListenerEvents>(name: K) => (e: MailListenerEvents[K][0]) => (this.emit as (n: string, v: unknown) => boolean)(name, { ...e, inbox: inbox.id });
    const enqueue = (items: Parameters<typeof enqueueDownloads>[1]) => {
      lease.assertHeld();
      return enqueueDownloads(queue, items.map((i) => ({ ...i, source: { ...i.source, inbox: inbox.id } })), jobOptions, { folder: inbox.downloadFolder, filter: inbox.filter, fence: lease, replicas: this.deps.replicas });
    };
    if (inbox.source === 'graph') {
      if (!this.deps.auth) throw new Error(`inbox ${inbox.id}: a Graph mailbox needs its token source`);
      const reader = createGraphReader({
        graph: inbox.graph, redis: this.deps.redis, prefix: this.deps.prefix, fence: lease, enqueue, allowlist: inbox.allowedHosts, senderPolicy: inbox.senderPolicy,
        maxLinks: inbox.maxLinks, faspex5: this.deps.faspex5, auth: this.deps.auth, logger: this.log, timeoutMs: this.deps.http?.timeoutMs, proxy: this.deps.http?.proxy, backoffBaseMs: this.deps.tuning?.backoffBaseMs,
      });
      for (const name of ['connected', 'disconnected', 'mail', 'mail-failed', 'backlog', 'synced'] as const) reader.on(name, relay(name) as never);
      return reader;
    }
    return new MailListener({
      imap: inbox.imap,
      redis: this.deps.redis,
      prefix: this.deps.prefix,
      fence: lease,
      enqueue,
      allowlist: inbox.allowedHosts,
      senderPolicy: inbox.senderPolicy,
      maxLinks: inbox.maxLinks,
      faspex5: this.deps.faspex5,
      logger: this.log,
      tuning: this.deps.tuning,
      auth: this.deps.auth,
      events: {
        connected: relay('connected'),
        disconnected: relay('disconnected'),
        mail: relay('mail'),
        'mail-failed': relay('mail-failed'),
        backlog: relay('backlog'),
        synced: relay('synced'),
      },
    });
  }
}

