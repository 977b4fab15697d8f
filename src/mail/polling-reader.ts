/**
 * The reader of a cursor-based mail source (mail-source.ts; Microsoft Graph): the counterpart of
 * the IMAP listener for sources that are polled. Each round asks the source for the pages of mail
 * after the cursor kept in Redis (cursor-state.ts); each page is read mail by mail (text parts
 * only), decided by decide.ts and settled by settle-chunk.ts: enqueue first, then the fenced
 * commit of the cursor past the page, then the marks. A crash anywhere before the commit reads
 * the page again, and the deterministic job ids make that queue nothing new.
 * Mails that already carry the service's mark, or that Redis records as handled, are not read
 * again: that is how a full resync (an expired cursor) avoids re-queueing handled mail.
 * Failures become a clear state (events `disconnected` with the source's words, `note` in the
 * status); the server's Retry-After is honoured, otherwise capped exponential backoff.
 */
import { EventEmitter } from 'node:events';
import { retryDelayMs } from '../errors.js';
import type { Fence } from '../lease/lease-keeper.js';
import type { Logger } from '../log/logger.js';
import { maskText } from '../log/secrets.js';
import type { EnqueueResult } from '../queue/producer.js';
import type { CursorState } from './cursor-state.js';
import { decideMail } from './decide.js';
import type { MailSource, SourceMail } from './mail-source.js';
import type { SenderPolicy } from './sender-policy.js';
import { settleChunk, type DecidedMail } from './settle-chunk.js';
import type { AllowedHost } from '../faspex/allowlist.js';
import type { EnqueueItem, Faspex5MailTrigger, MailDecision, MailListenerEvents, MailListenerStatus } from './types.js';

export interface PollingReaderDeps<M extends SourceMail> {
  source: MailSource<M>;
  state: CursorState;
  /** the folder, for status and events */
  folder: string;
  pollMs: number;
  enqueue: (items: EnqueueItem[]) => Promise<EnqueueResult[]>;
  allowlist: AllowedHost[];
  senderPolicy?: SenderPolicy | undefined;
  maxLinks?: number | undefined;
  fence?: Fence | undefined;
  /** Faspex 5 servers whose mails ask for a sweep, as for an IMAP inbox */
  faspex5?: Faspex5MailTrigger | undefined;
  logger: Logger;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export class PollingReader<M extends SourceMail> extends EventEmitter<MailListenerEvents> {
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private connected = false;
  private lastError: string | undefined;
  private note: string | undefined;
  private lastSyncAt: Date | undefined;
  private readonly log: Logger;

  constructor(private readonly deps: PollingReaderDeps<M>) {
    super();
    this.log = deps.logger.child({ component: 'mail', mailbox: `${deps.source.mailbox}/${deps.folder}` });
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Resolves when no page is mid-processing. `now`: the lease is lost, nothing more may be written anyway. */
  async stop(_options: { now?: boolean } = {}): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loopDone;
    this.loopDone = undefined;
  }

  status(): MailListenerStatus & { note?: string | undefined } {
    return { connected: this.connected, mailbox: this.deps.folder, uidValidity: undefined, lastUid: undefined, lastError: this.lastError, lastSyncAt: this.lastSyncAt?.toISOString(), note: this.note };
  }

  private halted(): boolean {
    return this.stopping || this.deps.fence?.signal.aborted === true;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    let opened = false;
    while (!this.halted()) {
      try {
        if (!opened) {
          await this.deps.source.open();
          opened = true;
        }
        await this.round(() => (attempt = 0));
        await this.sleep(this.deps.pollMs);
      } catch (err) {
        if (this.halted()) break;
        const failure = this.deps.source.classify(err);
        const reason = maskText(failure.reason);
        this.connected = false;
        this.lastError = reason;
        if (failure.resync) {
          // Not the connection's fault: read the folder again from the start, at once.
          this.note = `${reason} (at ${new Date().toISOString()})`;
          this.log.warn({ reason }, 'the source lost its place: reading the folder again from the start');
          this.emit('disconnected', { reason, retryInMs: 0 });
          try {
            await this.deps.state.commit(undefined, [], []);
          } catch (e) {
            if (this.halted()) break;
            this.lastError = maskText((e as Error).message);
          }
          continue;
        }
        if (failure.renewLogin) opened = false;
        attempt++;
        const retryInMs = failure.retryInMs ?? retryDelayMs(attempt, this.deps.backoffBaseMs ?? 1000, this.deps.backoffMaxMs ?? 60_000);
        this.log.warn({ retryInMs, reason }, 'mail source failed; trying again');
        this.emit('disconnected', { reason, retryInMs });
        await this.sleep(retryInMs);
      }
    }
    this.connected = false;
  }

  /** Every page after the kept cursor, each settled before the next is asked for. */
  private async round(onHealthy: () => void): Promise<void> {
    const { source, state } = this.deps;
    let cursor = await state.load();
    for (;;) {
      if (this.halted()) return;
      const page = await source.page(cursor);
      if (!this.connected) {
        this.connected = true;
        this.lastError = undefined;
        onHealthy();
        this.log.info({ resumed: cursor !== undefined }, 'watching mailbox');
        this.emit('connected', { mailbox: this.deps.folder, uidValidity: '', lastUid: 0, idle: false });
      }
      const known = await state.handledAmong(page.mails.map((m) => m.id));
      const fresh = page.mails.filter((m, i) => !m.marked && !known[i]);
      if (fresh.length > 0) this.emit('backlog', { count: fresh.length });
      const decided: DecidedMail<M>[] = [];
      for (const mail of fresh) {
        if (this.halted()) return;
        const read = await this.readOne(mail);
        if (read) decided.push(read);
      }
      if (this.halted()) return;
      await settleChunk(
        { enqueue: this.deps.enqueue, assertHeld: () => this.deps.fence?.assertHeld(), log: this.log, emit: (name, report) => this.emit(name, report), faspex5: this.deps.faspex5 },
        decided,
        {
          commit: (skipped) => {
            const at = new Date().toISOString();
            return state.commit(page.cursor, decided.map((d) => d.key.id), skipped.map(({ mail, kind, reason }) => ({ id: mail.id, kind, reason, at, ...(mail.decision.messageId ? { messageId: mail.decision.messageId } : {}) })));
          },
          mark: (byOutcome) => source.mark(new Map([...byOutcome].map(([outcome, ms]) => [outcome, ms.map((m) => m.key)]))),
        },
      );
      cursor = page.cursor;
      if (page.final) break;
    }
    this.lastSyncAt = new Date();
    this.emit('synced', { lastUid: 0 });
  }

  /** One mail read and decided; undefined when it is gone since its page listed it. */
  private async readOne(mail: M): Promise<DecidedMail<M> | undefined> {
    const { source } = this.deps;
    const base = { key: mail, id: mail.id, receivedAt: mail.receivedAt, origin: { type: 'mail' as const, mailbox: `${source.mailbox}/${this.deps.folder}` } };
    let bytesFetched = 0;
    let decision: MailDecision;
    try {
      const read = await source.read(mail);
      if (!read) {
        this.log.info({ id: mail.id }, 'mail gone after it was listed, before it was read: nothing to do');
        return undefined;
      }
      bytesFetched = read.bytesFetched;
      decision = await decideMail(read.raw, { allowlist: this.deps.allowlist, senderPolicy: this.deps.senderPolicy, maxLinks: this.deps.maxLinks, mentionHosts: this.deps.faspex5?.hosts });
    } catch (err) {
      // A failure of the connection or of Graph is not the mail's: the page is read again later.
      if (!source.mailsFault(err)) throw err;
      decision = { kind: 'failed', links: [], warnings: [], reason: `cannot be read: ${maskText((err as Error).message)}` };
    }
    return { ...base, decision, bytesFetched };
  }

  private sleep(ms: number): Promise<void> {
    if (this.halted()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.deps.fence?.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.deps.fence?.signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }
}
