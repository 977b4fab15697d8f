/**
 * One IMAP chunk of mails, in parts the listener overlaps (the next chunk is read while this one
 * is queued, and this one is marked while the next is queued): read and decide every mail
 * (read-chunk.ts), then the source-independent settling (settle-chunk.ts: ONE enqueue, the fenced
 * commit; then the marks, the reports) with IMAP's two hooks: the commit is ONE transaction for the skipped records and the
 * progress past the chunk (mailbox-state.ts); the marks are one STORE per outcome and one MOVE
 * (handled-marks.ts). An unreadable or refused mail is recorded and skipped (never retried
 * forever); a dead connection or a failed enqueue throws, leaving progress where it was so the
 * chunk is read again after backoff.
 */
import { markHandled } from './handled-marks.js';
import type { MailboxProgress } from './mailbox-state.js';
import { readChunk } from './read-chunk.js';
import { secureChunk, type DecidedMail } from './settle-chunk.js';
import type { ListedMail, ProcessContext } from './types.js';

/** A chunk read and decided, waiting to be settled. */
export interface ReadImapChunk {
  mails: DecidedMail<number>[];
  /** the chunk's highest listed UID: the progress once it is settled */
  lastUid: number;
}

/** Reads and decides every listed mail of a chunk (undefined: nothing listed). Throws when the connection died. */
export async function readImapChunk(ctx: ProcessContext, listed: readonly ListedMail[], uidValidity: string): Promise<ReadImapChunk | undefined> {
  if (listed.length === 0) return undefined;
  const mailbox = ctx.deps.imap.mailbox;
  const mails = (await readChunk(ctx, listed, uidValidity)).map((r): DecidedMail<number> => ({
    key: r.meta.uid,
    id: String(r.meta.uid),
    decision: r.decision,
    bytesFetched: r.bytesFetched,
    receivedAt: r.meta.internalDate,
    origin: { type: 'mail', mailbox, uid: r.meta.uid, uidValidity },
    reportExtra: { uid: r.meta.uid, uidValidity },
  }));
  return { mails, lastUid: listed[listed.length - 1]!.uid };
}

/**
 * Queues and commits a chunk read by readImapChunk, and resolves to the rest (marks, reports),
 * which the listener runs in chunk order. Undefined when it stopped before queuing (nothing of
 * the chunk was queued or marked).
 */
export async function secureImapChunk(ctx: ProcessContext, chunk: ReadImapChunk, progress: MailboxProgress): Promise<(() => Promise<void>) | undefined> {
  if (ctx.stopping()) return undefined;
  const { deps, state } = ctx;
  const { uidValidity } = progress;
  const { lastUid } = chunk;
  return secureChunk(
    { enqueue: deps.enqueue, assertHeld: () => deps.fence?.assertHeld(), log: ctx.log, emit: ctx.emit, faspex5: deps.faspex5 },
    chunk.mails,
    {
      commit: async (skipped) => {
        const at = new Date().toISOString();
        await state.saveChunk({ uidValidity, lastUid }, skipped.map(({ mail, kind, reason }) => ({ uid: mail.key, uidValidity, ...(mail.decision.messageId ? { messageId: mail.decision.messageId } : {}), kind, reason, at })));
        progress.lastUid = lastUid;
      },
      mark: (byOutcome) => markHandled(ctx.client, new Map([...byOutcome].map(([outcome, ms]) => [outcome, ms.map((m) => m.key)])), { keyword: deps.imap.markKeyword, moveTo: deps.imap.moveTo }, ctx.ensuredFolders),
    },
  );
}
