/**
 * The IMAP listener: one connection IDLE-ing on the mailbox, a new ImapFlow per (re)connect
 * (instances are single-use), capped exponential backoff with jitter between attempts, and a
 * periodic resync in case a notification was missed. Progress lives in Redis (mailbox-state.ts);
 * a mail counts as handled only once `enqueue` resolved, i.e. Redis holds its jobs. New mail is
 * handled per chunk of UIDs (process-mail.ts): a few round trips per chunk, not per mail.
 * It never builds queues itself: the service passes `enqueue` (wired to enqueueDownloads).
 */
import { EventEmitter } from 'node:events';
import type { ConnectionOptions } from 'node:tls';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { retryDelayMs } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { maskText } from '../log/secrets.js';
import { listMails } from './fetch-message.js';
import { refusalMessage, serverRefusal } from './imap-auth/login-refusal.js';
import { LoginRefused, passwordSource, type ImapAuthSource, type ImapLogin } from './imap-auth/token-source.js';
import { certificateProblem, imapTlsOptions, INSECURE_WARNING } from './imap-tls.js';
import { MailboxState, mailboxKey, type MailboxProgress } from './mailbox-state.js';
import { readImapChunk, secureImapChunk, type ReadImapChunk } from './process-mail.js';
import type { MailListenerDeps, MailListenerEvents, MailListenerStatus, MailListenerTuning, ProcessContext } from './types.js';

export type { EnqueueItem, MailListenerDeps, MailListenerEvents, MailListenerStatus, MailListenerTuning, MailReport } from './types.js';

const DEFAULTS: MailListenerTuning = {
  autoIdleDelayMs: 500,
  backoffBaseMs: 1000,
  backoffMaxMs: 30_000,
  chunkSize: 100,
  maxPartBytes: 2 * 1024 * 1024,
  wholeMailBytes: 256 * 1024,
  batchBytes: 4 * 1024 * 1024,
  maxAttempts: 3,
  stopTimeoutMs: 10_000,
  idleRenewMs: 5 * 60_000,
};

export class MailListener extends EventEmitter<MailListenerEvents> {
  readonly state: MailboxState;
  private readonly tuning: MailListenerTuning;
  private readonly log: Logger;
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private client: ImapFlow | undefined;
  private progress: MailboxProgress | undefined;
  private syncing: Promise<void> | undefined;
  private dirty = false;
  private wake: (() => void) | undefined;
  private connected = false;
  private lastError: string | undefined;
  private lastSyncAt: Date | undefined;
  private readonly ensuredFolders = new Set<string>();
  private readonly auth: ImapAuthSource;
  private readonly tls: ConnectionOptions;

  constructor(private readonly deps: MailListenerDeps) {
    super();
    this.tuning = { ...DEFAULTS, ...deps.tuning };
    const { imap } = deps;
    this.state = new MailboxState(deps.redis, mailboxKey(deps.prefix, imap.user, imap.host, imap.mailbox), deps.fence);
    this.log = deps.logger.child({ component: 'mail', mailbox: `${imap.user}@${imap.host}/${imap.mailbox}` });
    this.auth = deps.auth ?? passwordSource(imap.user, imap.password);
    this.tls = imapTlsOptions(imap.tls);
    if (imap.tls?.insecure) this.log.warn(INSECURE_WARNING);
    for (const [name, fn] of Object.entries(deps.events ?? {})) if (fn) this.on(name as keyof MailListenerEvents, fn as never);
  }

  start(): void {
    if (this.loopDone) return;
    this.stopping = false;
    this.loopDone = this.loop();
  }

  /**
   * Resolves when the connection is closed and no mail is mid-processing. `now`: close the
   * connection first, mid-command (the lease is lost: nothing of the chunk may be written anyway).
   */
  async stop(options: { now?: boolean } = {}): Promise<void> {
    this.stopping = true;
    this.wake?.();
    if (options.now) this.client?.close();
    if (this.syncing) await this.syncing.catch(() => undefined);
    const client = this.client;
    if (client) await this.closeClient(client);
    await this.loopDone;
    this.loopDone = undefined;
  }

  status(): MailListenerStatus {
    return {
      connected: this.connected,
      mailbox: this.deps.imap.mailbox,
      uidValidity: this.progress?.uidValidity,
      lastUid: this.progress?.lastUid,
      lastError: this.lastError,
      lastSyncAt: this.lastSyncAt?.toISOString(),
    };
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    let renewed = false;
    while (!this.stopping) {
      let client: ImapFlow | undefined;
      let refused = false;
      try {
        // asked on every connect: an OAuth2 token that is about to expire is renewed here
        const login = await this.auth.login();
        client = this.newClient(login);
        this.client = client;
        await this.session(client, () => ((attempt = 0), (renewed = false)));
      } catch (err) {
        refused = serverRefusal(err) !== undefined;
        this.noteError(err);
      } finally {
        this.connected = false;
        this.client = undefined;
        if (client) await this.closeClient(client);
      }
      // A sync of the closed connection may still be unwinding: never let two overlap.
      if (this.syncing) await this.syncing.catch(() => undefined);
      if (this.stopping) break;
      if (refused) {
        await this.auth.refused();
        // the token may have expired or been revoked since it was issued: one new one at once
        if (this.auth.renewable && !renewed) {
          renewed = true;
          this.log.warn({ reason: this.lastError }, 'IMAP login refused; renewing the access token');
          continue;
        }
      }
      attempt++;
      const retryInMs = retryDelayMs(attempt, this.tuning.backoffBaseMs, this.tuning.backoffMaxMs);
      this.log.warn({ retryInMs, reason: this.lastError }, 'IMAP connection ended; reconnecting');
      this.emit('disconnected', { reason: this.lastError ?? 'connection closed', retryInMs });
      await this.sleep(retryInMs);
    }
  }

  private newClient(auth: ImapLogin): ImapFlow {
    const { imap } = this.deps;
    const options: ImapFlowOptions = {
      host: imap.host,
      port: imap.port,
      secure: imap.secure,
      auth,
      tls: this.tls,
      logger: false,
      autoIdleDelay: this.tuning.autoIdleDelayMs,
      // RFC 2177: re-issue IDLE well within 29 minutes (see MailListenerTuning.idleRenewMs);
      // without IDLE, the NOOP poll interval
      maxIdleTime: this.tuning.idleRenewMs,
      connectionTimeout: 30_000,
    };
    const client = this.deps.createClient ? this.deps.createClient(options) : new ImapFlow(options);
    // An unhandled 'error' event would crash the process; 'close' follows and ends the session.
    client.on('error', (err: unknown) => this.noteError(err));
    return client;
  }

  /** One connection's life: select, catch up, then follow `exists` until the connection closes. */
  private async session(client: ImapFlow, onHealthy: () => void): Promise<void> {
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await client.connect();
    const mailbox = await client.mailboxOpen(this.deps.imap.mailbox);
    const uidValidity = String(mailbox.uidValidity);
    let progress = await this.state.load();
    if (!progress || progress.uidValidity !== uidValidity) {
      // First run: startAt decides. UIDVALIDITY changed: old UIDs mean nothing, read everything
      // again; the deterministic job ids make already queued packages a no-op.
      const lastUid = !progress && this.deps.imap.startAt === 'newest' ? Math.max(0, mailbox.uidNext - 1) : 0;
      if (progress) this.log.warn({ was: progress.uidValidity, now: uidValidity }, 'UIDVALIDITY changed: rescanning the mailbox');
      progress = { uidValidity, lastUid };
      await this.state.save(progress);
    }
    this.progress = progress;
    this.connected = true;
    this.log.info({ uidValidity, lastUid: progress.lastUid }, 'watching mailbox');
    this.emit('connected', { mailbox: this.deps.imap.mailbox, uidValidity, lastUid: progress.lastUid, idle: client.capabilities.has('IDLE') });

    const kick = () =>
      this.requestSync(client).catch((err: unknown) => {
        this.noteError(err);
        client.close();
      });
    client.on('exists', kick);
    const timer = setInterval(kick, Math.max(1, this.deps.imap.resyncSeconds) * 1000);
    try {
      await this.requestSync(client);
      this.lastError = undefined;
      onHealthy();
      await closed;
    } finally {
      clearInterval(timer);
      client.off('exists', kick);
    }
  }

  /** Serialises syncs: a request during a sync makes it run once more. */
  private requestSync(client: ImapFlow): Promise<void> {
    this.dirty = true;
    this.syncing ??= (async () => {
      try {
        while (this.dirty && !this.stopping) {
          this.dirty = false;
          await this.syncOnce(client);
        }
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private async syncOnce(client: ImapFlow): Promise<void> {
    const progress = this.progress!;
    // `N:*` returns the highest UID even when it is below N: filter client-side.
    const found = await client.search({ uid: `${progress.lastUid + 1}:*` }, { uid: true });
    const uids = (found || []).filter((u) => u > progress.lastUid).sort((a, b) => a - b);
    if (uids.length > 0) this.emit('backlog', { count: uids.length });
    const ctx = this.processContext(client);
    const { chunkSize } = this.tuning;
    const readAt = (i: number) => this.readAhead(ctx, uids.slice(i, i + chunkSize), progress.uidValidity);
    // The next chunk is read from IMAP while this one is queued in Redis, and this one is marked
    // while the next is queued: each waits on its own server, not on the other. Chunks are
    // queued and committed one after another in UID order, and marked and reported in that order.
    let next = uids.length > 0 ? readAt(0) : undefined;
    let marking: Promise<void> = Promise.resolve();
    try {
      for (let i = 0; next; i += chunkSize) {
        const chunk = await next;
        next = i + chunkSize < uids.length && !ctx.stopping() ? readAt(i + chunkSize) : undefined;
        if (chunk) {
          const finish = await secureImapChunk(ctx, chunk, progress);
          if (!finish) return;
          marking = marking.then(finish);
          // observed below; a half that failed (a lost lease) skips the later ones, whose
          // fenced enqueue fails anyway
          marking.catch(() => undefined);
        }
        this.emit('backlog', { count: Math.max(0, uids.length - i - chunkSize) });
      }
      await marking;
    } finally {
      // A sync that ends early (stopping, a failed enqueue) lets its read-ahead and its marks
      // finish first: nothing of this connection may run on into a reconnect or the next sync.
      await next?.catch(() => undefined);
      await marking.catch(() => undefined);
    }
    this.lastSyncAt = new Date();
    this.emit('synced', { lastUid: progress.lastUid });
  }

  /** Lists and reads a chunk; the promise never rejects unobserved (it is awaited later, or dropped on a throw). */
  private readAhead(ctx: ProcessContext, uids: readonly number[], uidValidity: string): Promise<ReadImapChunk | undefined> {
    // `uids` are past the progress already (syncOnce filtered them)
    const read = (async () => readImapChunk(ctx, await listMails(ctx.client, uids), uidValidity))();
    read.catch(() => undefined);
    return read;
  }

  private processContext(client: ImapFlow): ProcessContext {
    const { deps, state, tuning, log, ensuredFolders } = this;
    return { client, deps, state, tuning, log, ensuredFolders, stopping: () => this.stopping || this.deps.fence?.signal.aborted === true, emit: (name, report) => this.emit(name, report) };
  }

  private noteError(err: unknown): void {
    const refusal = err instanceof LoginRefused ? err.reason : serverRefusal(err);
    const text = refusal !== undefined ? refusalMessage(refusal) : certificateProblem(err, this.deps.imap.host) ?? (err instanceof Error ? err.message : String(err));
    this.lastError = maskText(text);
  }

  private async closeClient(client: ImapFlow): Promise<void> {
    if (!client.usable) {
      client.close();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([client.logout().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, this.tuning.stopTimeoutMs)))]);
    clearTimeout(timer);
    client.close();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
