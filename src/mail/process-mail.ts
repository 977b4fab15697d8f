/**
 * One IMAP chunk of mails, start to finish: read and decide every mail (read-chunk.ts), then the
 * source-independent settling (settle-chunk.ts: ONE enqueue, the fenced commit, the marks, the
 * reports) with IMAP's two hooks: the commit is ONE transaction for the skipped records and the
 * progress past the chunk (mailbox-state.ts); the marks are one STORE per outcome and one MOVE
 * (handled-marks.ts). An unreadable or refused mail is recorded and skipped (never retried
 * forever); a dead connection or a failed enqueue throws, leaving progress where it was so the
 * chunk is read again after backoff.
 */
import { markHandled } from './handled-marks.js';
import type { MailboxProgress } from './mailbox-state.js';
import { readChunk } from './read-chunk.js';
import { settleChunk, type DecidedMail } from './settle-chunk.js';
import type { ListedMail, ProcessContext } from './types.js';

/** Returns false when it stopped before queuing (nothing of the chunk was marked). */
export async function processChunk(ctx: ProcessContext, listed: readonly ListedMail[], progress: MailboxProgress): Promise<boolean> {
  if (listed.length === 0) return true;
  const { deps, state } = ctx;
  const { uidValidity } = progress;
  const mailbox = deps.imap.mailbox;
  const mails: DecidedMail<number>[] = (await readChunk(ctx, listed, uidValidity)).map((r) => ({
    key: r.meta.uid,
    id: String(r.meta.uid),
    decision: r.decision,
    bytesFetched: r.bytesFetched,
    receivedAt: r.meta.internalDate,
    origin: { type: 'mail', mailbox, uid: r.meta.uid, uidValidity },
    reportExtra: { uid: r.meta.uid, uidValidity },
  }));
  if (ctx.stopping()) return false;
  const lastUid = listed[listed.length - 1]!.uid;
  await settleChunk(
    { enqueue: deps.enqueue, assertHeld: () => deps.fence?.assertHeld(), log: ctx.log, emit: ctx.emit, faspex5: deps.faspex5 },
    mails,
    {
      commit: async (skipped) => {
        const at = new Date().toISOString();
        await state.saveChunk({ uidValidity, lastUid }, skipped.map(({ mail, kind, reason }) => ({ uid: mail.key, uidValidity, ...(mail.decision.messageId ? { messageId: mail.decision.messageId } : {}), kind, reason, at })));
        progress.lastUid = lastUid;
      },
      mark: (byOutcome) => markHandled(ctx.client, new Map([...byOutcome].map(([outcome, ms]) => [outcome, ms.map((m) => m.key)])), { keyword: deps.imap.markKeyword, moveTo: deps.imap.moveTo }, ctx.ensuredFolders),
    },
  );
  return true;
}
