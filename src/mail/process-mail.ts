/**
 * One mail, start to finish: fetch what extraction needs, decide, enqueue, save progress, mark.
 * The order is the contract: progress advances only after `enqueue` resolved; an unreadable or
 * refused mail is recorded and skipped (never retried forever); a dead connection or a failed
 * enqueue throws, leaving progress where it was so the mail is read again after backoff.
 */
import type { ImapFlow } from 'imapflow';
import type { Logger } from '../log/logger.js';
import { maskText } from '../log/secrets.js';
import { failpoint } from '../service/failpoints.js';
import type { DownloadJobData } from '../queue/queues.js';
import { decideMail, type MailDecision } from './decide.js';
import { fetchForExtraction, type MessageMeta } from './fetch-message.js';
import { markHandled, type MailOutcomeKind } from './handled-marks.js';
import type { MailListenerDeps, MailListenerTuning, MailReport } from './listener.js';
import type { MailboxProgress, MailboxState } from './mailbox-state.js';

export interface ProcessContext {
  client: ImapFlow;
  deps: MailListenerDeps;
  state: MailboxState;
  tuning: MailListenerTuning;
  log: Logger;
  ensuredFolders: Set<string>;
  emit: (name: 'mail' | 'mail-failed', report: MailReport) => void;
}

export async function processMail(ctx: ProcessContext, meta: MessageMeta, progress: MailboxProgress): Promise<MailReport> {
  const { client, deps, state } = ctx;
  const { uidValidity } = progress;
  const { decision, bytesFetched } = await readMail(ctx, meta, uidValidity);
  const messageId = decision.messageId ?? meta.envelope?.messageId;
  const subject = decision.subject ?? meta.envelope?.subject;
  const from = decision.from ?? meta.envelope?.from?.[0]?.address;

  let outcome: MailOutcomeKind = decision.kind === 'links' ? 'queued' : decision.kind;
  let jobsAdded = 0;
  if (decision.kind === 'links') {
    const source: DownloadJobData['source'] = { type: 'mail', mailbox: deps.imap.mailbox, uid: meta.uid, uidValidity };
    if (messageId) source.messageId = messageId;
    if (subject) source.subject = subject;
    if (from) source.from = from;
    // Throws when Redis is unreachable: progress stays put and the listener retries after backoff.
    const results = await deps.enqueue(decision.links.map((link) => ({ link, source })));
    jobsAdded = results.filter((r) => r.added).length;
    failpoint('listener.after-enqueue');
    outcome = 'queued';
  } else if (decision.kind === 'failed' || decision.kind === 'refused') {
    await state.recordSkipped({
      uid: meta.uid,
      uidValidity,
      ...(messageId ? { messageId } : {}),
      kind: decision.kind === 'failed' ? 'unreadable' : 'refused',
      reason: decision.reason ?? '',
      at: new Date().toISOString(),
    });
  }
  progress.lastUid = meta.uid;
  await state.save(progress);

  try {
    await markHandled(client, meta.uid, outcome, { keyword: deps.imap.markKeyword, moveTo: deps.imap.moveTo }, ctx.ensuredFolders);
  } catch (err) {
    ctx.log.warn({ uid: meta.uid, err }, 'could not mark the mail on the server (cosmetic: its progress is saved)');
  }

  const report: MailReport = {
    uid: meta.uid,
    uidValidity,
    messageId,
    outcome,
    links: decision.links.length,
    jobsAdded,
    warnings: decision.warnings,
    reason: decision.reason,
    bytesFetched,
  };
  const bad = outcome === 'failed' || outcome === 'refused';
  ctx.log[bad ? 'warn' : 'info']({ ...report, links: decision.links.map((l) => maskText(l.url)), subject }, `mail ${meta.uid}: ${outcome}`);
  ctx.emit('mail', report);
  if (bad) ctx.emit('mail-failed', report);
  return report;
}

/** Fetch and decide, counting attempts so a mail that kills the connection is given up on. */
async function readMail(ctx: ProcessContext, meta: MessageMeta, uidValidity: string): Promise<{ decision: MailDecision; bytesFetched: number }> {
  const attempts = await ctx.state.beginAttempt(uidValidity, meta.uid);
  let decision: MailDecision;
  let bytesFetched = 0;
  if (attempts > ctx.tuning.maxAttempts) {
    decision = failed(`reading it ended the IMAP connection ${attempts - 1} times`);
  } else {
    try {
      const fetched = await fetchForExtraction(ctx.client, meta, ctx.tuning.maxPartBytes);
      bytesFetched = fetched.bytesFetched;
      decision = await decideMail(fetched.raw, { allowlist: ctx.deps.allowlist, senderPolicy: ctx.deps.senderPolicy, maxLinks: ctx.deps.maxLinks });
    } catch (err) {
      // A dead connection is not the mail's fault: read it again after reconnecting.
      if (!ctx.client.usable) throw err;
      decision = failed(`cannot be read: ${(err as Error).message}`);
    }
  }
  await ctx.state.endAttempt(uidValidity, meta.uid);
  return { decision, bytesFetched };
}

function failed(reason: string): MailDecision {
  return { kind: 'failed', links: [], warnings: [], reason };
}
