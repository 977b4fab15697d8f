/**
 * One chunk of mails, start to finish: read and decide every mail (read-chunk.ts), ONE enqueue
 * for the links of all of them, ONE transaction for the skipped records and the progress past
 * the chunk, then the marks (one STORE per outcome, one MOVE), then a report per mail.
 * The order is the contract: nothing of a chunk is marked handled (progress, keyword, move)
 * before `enqueue` resolved, i.e. Redis holds the jobs of all its mails. A crash or a throw
 * anywhere before the progress transaction leaves the whole chunk to be read again, and the
 * deterministic job ids make that second read queue nothing new. An unreadable or refused mail
 * is recorded and skipped (never retried forever); a dead connection or a failed enqueue throws,
 * leaving progress where it was so the chunk is read again after backoff.
 */
import { maskText } from '../log/secrets.js';
import { downloadJobId, type DownloadJobData } from '../queue/queues.js';
import { failpoint } from '../service/failpoints.js';
import { markHandled } from './handled-marks.js';
import type { MailboxProgress, SkippedMail } from './mailbox-state.js';
import { readChunk } from './read-chunk.js';
import type { EnqueueItem, MailOutcomeKind, MailReport, MessageMeta, ProcessContext, ReadMail } from './types.js';

/** The outcomes that are recorded as skipped (and reported as `mail-failed`), with their record's kind. */
const SKIPPED_KIND: Partial<Record<MailOutcomeKind, SkippedMail['kind']>> = { failed: 'unreadable', refused: 'refused', damaged: 'damaged' };

interface Mail extends ReadMail {
  outcome: MailOutcomeKind;
  messageId: string | undefined;
  subject: string | undefined;
  from: string | undefined;
}

/** Returns false when it stopped before queuing (nothing of the chunk was marked). */
export async function processChunk(ctx: ProcessContext, metas: readonly MessageMeta[], progress: MailboxProgress): Promise<boolean> {
  if (metas.length === 0) return true;
  const { deps, state } = ctx;
  const { uidValidity } = progress;
  const mails: Mail[] = (await readChunk(ctx, metas, uidValidity)).map((r) => ({
    ...r,
    outcome: r.decision.kind === 'links' ? 'queued' : r.decision.kind,
    messageId: r.decision.messageId,
    subject: r.decision.subject,
    from: r.decision.from,
  }));
  if (ctx.stopping()) return false;
  // `listener.pause-before-enqueue`: the process freezes here, its chunk read and not yet queued.
  failpoint('listener.pause-before-enqueue');

  const queued = mails.filter((m) => m.outcome === 'queued');
  const added = new Map<string, boolean>();
  if (queued.length > 0) {
    // Throws when Redis is unreachable: progress stays put and the listener retries after backoff.
    const results = await deps.enqueue(queued.flatMap((m) => m.decision.links.map((link): EnqueueItem => ({ link, source: sourceOf(m, deps.imap.mailbox, uidValidity) }))));
    for (const r of results) added.set(r.jobId, r.added);
    // One hit per mail whose jobs are now in Redis, before anything of the chunk is marked:
    // `listener.after-enqueue@N` is a crash after the Nth such mail was queued.
    for (let i = 0; i < queued.length; i++) failpoint('listener.after-enqueue');
  }

  const skipped: SkippedMail[] = mails.flatMap((m) => {
    const kind = SKIPPED_KIND[m.outcome];
    return kind ? [{ uid: m.meta.uid, uidValidity, ...(m.messageId ? { messageId: m.messageId } : {}), kind, reason: m.decision.reason ?? '', at: new Date().toISOString() }] : [];
  });
  const lastUid = metas[metas.length - 1]!.uid;
  await state.saveChunk({ uidValidity, lastUid }, skipped);
  progress.lastUid = lastUid;

  const byOutcome = new Map<MailOutcomeKind, number[]>();
  for (const m of mails) byOutcome.set(m.outcome, [...(byOutcome.get(m.outcome) ?? []), m.meta.uid]);
  // Marks for a chunk whose progress is saved; a listener that lost its lease since leaves them to people.
  deps.fence?.assertHeld();
  try {
    await markHandled(ctx.client, byOutcome, { keyword: deps.imap.markKeyword, moveTo: deps.imap.moveTo }, ctx.ensuredFolders);
  } catch (err) {
    ctx.log.warn({ uids: metas.map((m) => m.uid), err }, 'could not mark the mails on the server (cosmetic: their progress is saved)');
  }

  // A job new in Redis counts for the first mail (by UID) that announced it, as if read one by one.
  const claimed = new Set<string>();
  for (const m of mails) {
    let jobsAdded = 0;
    for (const link of m.decision.links) {
      const id = downloadJobId(link);
      if (added.get(id) && !claimed.has(id)) jobsAdded++;
      claimed.add(id);
    }
    report(ctx, m, uidValidity, jobsAdded);
  }
  return true;
}

function sourceOf(m: Mail, mailbox: string, uidValidity: string): DownloadJobData['source'] {
  const source: DownloadJobData['source'] = { type: 'mail', mailbox, uid: m.meta.uid, uidValidity };
  if (m.messageId) source.messageId = m.messageId;
  if (m.subject) source.subject = m.subject;
  if (m.from) source.from = m.from;
  return source;
}

function report(ctx: ProcessContext, m: Mail, uidValidity: string, jobsAdded: number): void {
  const { decision, outcome } = m;
  const r: MailReport = { uid: m.meta.uid, uidValidity, messageId: m.messageId, outcome, links: decision.links.length, jobsAdded, warnings: decision.warnings, reason: decision.reason, bytesFetched: m.bytesFetched, receivedAt: m.meta.internalDate };
  const bad = SKIPPED_KIND[outcome] !== undefined;
  ctx.log[bad ? 'warn' : 'info']({ ...r, links: decision.links.map((l) => maskText(l.url)), subject: m.subject }, `mail ${m.meta.uid}: ${outcome}`);
  ctx.emit('mail', r);
  if (bad) ctx.emit('mail-failed', r);
}
