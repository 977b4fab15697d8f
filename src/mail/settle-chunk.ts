/**
 * The source-independent half of handling a chunk of mail: every mail of it already read and
 * decided (decide.ts, the one decision), whatever it was read from (IMAP, Microsoft Graph, …).
 * ONE enqueue for the links of all of them, then the source's `commit` (its progress past the
 * chunk and why the skipped ones were skipped, in one fenced write): `secureChunk`. Then its
 * `mark` (cosmetic: keywords, categories, a move), then a report per mail: the half a source may
 * run while it secures its next chunk (the IMAP listener does).
 * The order is the contract: nothing of a chunk counts as handled before `enqueue` resolved, i.e.
 * Redis holds the jobs of all its mails. A crash or a throw anywhere before `commit` leaves the
 * whole chunk to be read again, and the deterministic job ids make that second read queue
 * nothing new. A source supplies how it reads (listing new mail, the text parts) and these two
 * hooks; it never repeats what happens here.
 */
import type { Logger } from '../log/logger.js';
import { maskText } from '../log/secrets.js';
import { downloadJobId, type DownloadJobData } from '../queue/queues.js';
import { failpoint } from '../service/failpoints.js';
import type { SkippedMail } from './mailbox-state.js';
import type { EnqueueItem, Faspex5MailTrigger, MailDecision, MailOutcomeKind, MailReport } from './types.js';
import type { EnqueueResult } from '../queue/producer.js';

/** The outcomes that are recorded as skipped (and reported as `mail-failed`), with their record's kind. */
export const SKIPPED_KIND: Partial<Record<MailOutcomeKind, SkippedMail['kind']>> = { failed: 'unreadable', refused: 'refused', damaged: 'damaged' };

/** One mail of a chunk, read and decided by its source. */
export interface DecidedMail<K = unknown> {
  /** the source's own handle on the mail (an IMAP UID, a Graph message id), handed back to its hooks */
  key: K;
  /** how logs and reports name it: "17" (a UID), a Graph message id */
  id: string;
  decision: MailDecision;
  bytesFetched: number;
  receivedAt?: Date | undefined;
  /** where its jobs say they came from (mailbox, uid, …); messageId, subject and from are added here */
  origin: DownloadJobData['source'];
  /** what its report carries besides the common fields (IMAP: uid, uidValidity) */
  reportExtra?: Partial<MailReport>;
}

export interface SkipRecord<K> {
  mail: DecidedMail<K>;
  kind: SkippedMail['kind'];
  reason: string;
}

export interface SettleContext {
  /** resolves only once Redis acknowledged the jobs (fenced by the caller under a lease) */
  enqueue: (items: EnqueueItem[]) => Promise<EnqueueResult[]>;
  /** throws when the lease was lost: marks are left to people then */
  assertHeld: () => void;
  log: Logger;
  emit: (name: 'mail' | 'mail-failed', report: MailReport) => void;
  /** Faspex 5 sweeps these mails ask for, in Redis before the commit (types.ts Faspex5MailTrigger) */
  faspex5?: Faspex5MailTrigger | undefined;
}

export interface SettleHooks<K> {
  /** the progress past the chunk and the skip records, in one fenced write; throws when refused */
  commit: (skipped: readonly SkipRecord<K>[]) => Promise<void>;
  /** cosmetic marks for people; a throw is logged, never fatal (the progress is saved) */
  mark: (byOutcome: ReadonlyMap<MailOutcomeKind, readonly DecidedMail<K>[]>) => Promise<void>;
}

export function outcomeOf(decision: MailDecision): MailOutcomeKind {
  return decision.kind === 'links' ? 'queued' : decision.kind;
}

export async function settleChunk<K>(ctx: SettleContext, mails: readonly DecidedMail<K>[], hooks: SettleHooks<K>): Promise<void> {
  const finish = await secureChunk(ctx, mails, hooks);
  await finish();
}

/**
 * The half that makes a chunk count as handled: ONE enqueue, the sweep requests, the commit.
 * Resolves to the other half (the marks, then the reports), which a source may run later, e.g.
 * while its next chunk is being queued, as long as the halves of its chunks run in chunk order.
 */
export async function secureChunk<K>(ctx: SettleContext, mails: readonly DecidedMail<K>[], hooks: SettleHooks<K>): Promise<() => Promise<void>> {
  // `listener.pause-before-enqueue`: the process freezes here, its chunk read and not yet queued.
  failpoint('listener.pause-before-enqueue');
  const queued = mails.filter((m) => outcomeOf(m.decision) === 'queued');
  const added = new Map<string, boolean>();
  if (queued.length > 0) {
    // Throws when Redis is unreachable: progress stays put and the source retries after backoff.
    const results = await ctx.enqueue(queued.flatMap((m) => m.decision.links.map((link): EnqueueItem => ({ link, source: sourceOf(m) }))));
    for (const r of results) added.set(r.jobId, r.added);
    // One hit per mail whose jobs are now in Redis, before anything of the chunk is marked:
    // `listener.after-enqueue@N` is a crash after the Nth such mail was queued.
    for (let i = 0; i < queued.length; i++) failpoint('listener.after-enqueue');
  }

  // The sweep a Faspex 5 server's mail asks for is in Redis before the mail counts as handled;
  // the sweeper clears it only once that sweep's jobs are in Redis (src/sweep/sweep-store.ts).
  const refused = new Set(['refused', 'failed']);
  if (ctx.faspex5) await ctx.faspex5.request(mails.map((m) => m.decision).filter((d) => !refused.has(d.kind)));

  await hooks.commit(mails.flatMap((mail) => {
    const kind = SKIPPED_KIND[outcomeOf(mail.decision)];
    return kind ? [{ mail, kind, reason: mail.decision.reason ?? '' }] : [];
  }));
  return () => markAndReport(ctx, mails, hooks, added);
}

/** The cosmetic half of a secured chunk: marks for people, then a report per mail. */
async function markAndReport<K>(ctx: SettleContext, mails: readonly DecidedMail<K>[], hooks: SettleHooks<K>, added: ReadonlyMap<string, boolean>): Promise<void> {
  const byOutcome = new Map<MailOutcomeKind, DecidedMail<K>[]>();
  for (const m of mails) {
    const outcome = outcomeOf(m.decision);
    const same = byOutcome.get(outcome);
    if (same) same.push(m);
    else byOutcome.set(outcome, [m]);
  }
  // Marks for a chunk whose progress is saved; a listener that lost its lease since leaves them to people.
  ctx.assertHeld();
  try {
    await hooks.mark(byOutcome);
  } catch (err) {
    ctx.log.warn({ mails: mails.map((m) => m.id), err }, 'could not mark the mails on the server (cosmetic: their progress is saved)');
  }

  // A job new in Redis counts for the first mail (in chunk order) that announced it, as if read one by one.
  const claimed = new Set<string>();
  for (const m of mails) {
    let jobsAdded = 0;
    for (const link of m.decision.links) {
      const id = downloadJobId(link);
      if (added.get(id) && !claimed.has(id)) jobsAdded++;
      claimed.add(id);
    }
    report(ctx, m, jobsAdded);
  }
}

function sourceOf(m: DecidedMail<unknown>): DownloadJobData['source'] {
  const source: DownloadJobData['source'] = { ...m.origin };
  const { messageId, subject, from } = m.decision;
  if (messageId) source.messageId = messageId;
  if (subject) source.subject = subject;
  if (from) source.from = from;
  return source;
}

function report(ctx: SettleContext, m: DecidedMail<unknown>, jobsAdded: number): void {
  const { decision } = m;
  const outcome = outcomeOf(decision);
  const r: MailReport = {
    ...m.reportExtra,
    id: m.id, messageId: decision.messageId, outcome, links: decision.links.length, jobsAdded, warnings: decision.warnings, reason: decision.reason, bytesFetched: m.bytesFetched, receivedAt: m.receivedAt,
  };
  const bad = SKIPPED_KIND[outcome] !== undefined;
  ctx.log[bad ? 'warn' : 'info']({ ...r, links: decision.links.map((l) => maskText(l.url)), subject: decision.subject }, `mail ${m.id}: ${outcome}`);
  ctx.emit('mail', r);
  if (bad) ctx.emit('mail-failed', r);
}
