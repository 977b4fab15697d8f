/**
 * Reading a chunk of mails and deciding each one, with the poison-mail rule: a read of a mail
 * that starts is counted in Redis (`:attempts`) and uncounted when it ends, so a mail whose
 * reading keeps killing the connection (or the process) shows up with a count, and after
 * `maxAttempts` such reads it is given up (decided `failed`) instead of read forever.
 *
 * Each mail goes one way: planned (mime-plan.ts: which sections), fetched (fetch-message.ts),
 * its parts decoded in place (mime/parts-content.ts: no message rebuilt and parsed again),
 * decided (decide.ts). This module is the only
 * one that calls those steps; none of them calls another.
 *
 * Fast path, when no mail of the chunk has an unfinished read: one HSET counts them all, one
 * FETCH per group of alike mails brings their parts, one HDEL uncounts them.
 * If that dies midway, every mail of the chunk now has a count of 1, so the next pass takes the
 * careful path: one mail at a time, each counted and uncounted on its own, as the fast path was
 * never tried. The mail that kills the connection then collects counts alone; the mails before it
 * are uncounted as they succeed and the ones after it are not reached, so they are never blamed
 * beyond the one fast read they shared with it.
 */
import { decideFetched, headerFacts } from './decide.js';
import { fetchParts, fetchPartsBatched, type FetchedParts } from './fetch-message.js';
import { planMail, type MailPlan } from './mime-plan.js';
import type { MailDecision, MessageMeta, ProcessContext, ReadMail } from './types.js';

/** Every mail of `metas` decided, in the same order. Throws when the connection died. */
export async function readChunk(ctx: ProcessContext, metas: readonly MessageMeta[], uidValidity: string): Promise<ReadMail[]> {
  const uids = metas.map((m) => m.uid);
  const unfinished = await ctx.state.attempts(uidValidity, uids);
  if (unfinished.some((n) => n > 0)) {
    ctx.log.warn({ uids: uids.filter((_, i) => unfinished[i]! > 0) }, 'an earlier read of this chunk died midway: reading it one mail at a time');
    const out: ReadMail[] = [];
    for (const meta of metas) out.push(await readAlone(ctx, planMail(meta), uidValidity));
    return out;
  }
  await ctx.state.beginFirstAttempts(uidValidity, uids);
  const decided = new Map<number, ReadMail>();
  const batches = fetchPartsBatched(ctx.client, metas.map((m) => planMail(m)), { maxPartBytes: ctx.tuning.maxPartBytes, budgetBytes: ctx.tuning.batchBytes });
  // Each yield comes after its FETCH completed, so decide() may fall back to a fetch of its own.
  for await (const { request, fetched } of batches) decided.set(request.meta.uid, await decide(ctx, request, fetched));
  await ctx.state.endAttempts(uidValidity, uids);
  return metas.map((m) => decided.get(m.uid)!);
}

async function readAlone(ctx: ProcessContext, plan: MailPlan, uidValidity: string): Promise<ReadMail> {
  const { meta } = plan;
  const attempts = await ctx.state.beginAttempt(uidValidity, meta.uid);
  const read = attempts > ctx.tuning.maxAttempts ? { meta, decision: await failed(meta, `reading it ended the IMAP connection ${attempts - 1} times`), bytesFetched: 0 } : await decide(ctx, plan, undefined);
  await ctx.state.endAttempt(uidValidity, meta.uid);
  return read;
}

/** Fetch (unless the batch brought it), render and decide one mail; only a dead connection throws. */
async function decide(ctx: ProcessContext, plan: MailPlan, fetched: FetchedParts | undefined): Promise<ReadMail> {
  const { meta } = plan;
  try {
    fetched ??= await fetchParts(ctx.client, plan, ctx.tuning.maxPartBytes);
    const decision = await decideFetched(meta.header, plan.root, fetched.parts, { allowlist: ctx.deps.allowlist, senderPolicy: ctx.deps.senderPolicy, maxLinks: ctx.deps.maxLinks, mentionHosts: ctx.deps.faspex5?.hosts });
    return { meta, decision, bytesFetched: fetched.bytesFetched };
  } catch (err) {
    // A dead connection is not the mail's fault: read it again after reconnecting.
    if (!ctx.client.usable) throw err;
    return { meta, decision: await failed(meta, `cannot be read: ${(err as Error).message}`), bytesFetched: fetched?.bytesFetched ?? 0 };
  }
}

/** Given up on: still named in the record and the log by what its header says. */
async function failed(meta: MessageMeta, reason: string): Promise<MailDecision> {
  return { kind: 'failed', links: [], warnings: [], reason, ...(await headerFacts(meta.header)) };
}
