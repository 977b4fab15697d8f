/**
 * Reading a chunk of mails and deciding each one, with the poison-mail rule: a read of a mail
 * that starts is counted in Redis (`:attempts`) and uncounted when it ends, so a mail whose
 * reading keeps killing the connection (or the process) shows up with a count, and after
 * `maxAttempts` such reads it is given up (decided `failed`) instead of read forever.
 *
 * Each mail goes one of two ways (fetch-message.ts says why): a small one is fetched whole and
 * read by the MIME reader (decide.ts decideMail); a big one is planned (mime-plan.ts: which
 * sections), its parts fetched and decoded in place (mime/parts-content.ts). This module is the
 * only one that calls those steps; none of them calls another.
 *
 * Fast path, when no mail of the chunk has an unfinished read: one HSET counts them all, one
 * FETCH brings the small ones whole (more if they pass the byte budget), one FETCH of structure
 * and one per group of alike big ones bring theirs, one HDEL uncounts them.
 * If that dies midway, every mail of the chunk now has a count of 1, so the next pass takes the
 * careful path: one mail at a time, each counted and uncounted on its own, as the fast path was
 * never tried. The mail that kills the connection then collects counts alone; the mails before it
 * are uncounted as they succeed and the ones after it are not reached, so they are never blamed
 * beyond the one fast read they shared with it.
 */
import { decideFetched, decideMail, headerFacts, type DecideOptions } from './decide.js';
import { fetchHeader, fetchMeta, fetchParts, fetchPartsBatched, fetchWhole, type FetchedParts } from './fetch-message.js';
import { planMail, type MailPlan } from './mime-plan.js';
import type { ListedMail, MailDecision, ProcessContext, ReadMail } from './types.js';

/** Every mail of `listed` decided, in the same order. Throws when the connection died. */
export async function readChunk(ctx: ProcessContext, listed: readonly ListedMail[], uidValidity: string): Promise<ReadMail[]> {
  const uids = listed.map((m) => m.uid);
  const unfinished = await ctx.state.attempts(uidValidity, uids);
  if (unfinished.some((n) => n > 0)) {
    ctx.log.warn({ uids: uids.filter((_, i) => unfinished[i]! > 0) }, 'an earlier read of this chunk died midway: reading it one mail at a time');
    const out: ReadMail[] = [];
    for (const mail of listed) {
      const read = await readAlone(ctx, mail, uidValidity);
      if (read) out.push(read);
    }
    return out;
  }
  await ctx.state.beginFirstAttempts(uidValidity, uids);
  const decided = new Map<number, ReadMail>();
  const small: ListedMail[] = [];
  const big: ListedMail[] = [];
  for (const m of listed) (isSmall(ctx, m) ? small : big).push(m);
  // Each yield comes after its FETCH completed, so a decision may fall back to a fetch of its own.
  for await (const { mail, raw } of fetchWhole(ctx.client, small, ctx.tuning.batchBytes)) {
    const read = await decideWhole(ctx, mail, raw);
    if (read) decided.set(mail.uid, read);
  }
  if (big.length > 0) {
    const metas = await fetchMeta(ctx.client, big.map((m) => m.uid));
    const batches = fetchPartsBatched(ctx.client, metas.map((m) => planMail(m)), { maxPartBytes: ctx.tuning.maxPartBytes, budgetBytes: ctx.tuning.batchBytes });
    for await (const { request, fetched } of batches) decided.set(request.meta.uid, await decidePlanned(ctx, request, fetched));
  }
  await ctx.state.endAttempts(uidValidity, uids);
  // a mail expunged between the listing and the reading is simply gone
  return listed.flatMap((m) => decided.get(m.uid) ?? []);
}

/** One mail, counted on its own; undefined: it was expunged since it was listed. */
async function readAlone(ctx: ProcessContext, mail: ListedMail, uidValidity: string): Promise<ReadMail | undefined> {
  const attempts = await ctx.state.beginAttempt(uidValidity, mail.uid);
  let read: ReadMail | undefined;
  if (attempts > ctx.tuning.maxAttempts) {
    const header = await fetchHeader(ctx.client, mail.uid);
    read = header && { meta: mail, decision: await failed(header, `reading it ended the IMAP connection ${attempts - 1} times`), bytesFetched: 0 };
  } else if (isSmall(ctx, mail)) {
    read = await decideWhole(ctx, mail, undefined);
  } else {
    const [meta] = await fetchMeta(ctx.client, [mail.uid]);
    read = meta ? await decidePlanned(ctx, planMail(meta), undefined) : await gone(ctx, mail);
  }
  await ctx.state.endAttempt(uidValidity, mail.uid);
  return read;
}

function isSmall(ctx: ProcessContext, mail: ListedMail): boolean {
  return mail.size !== undefined && mail.size <= ctx.tuning.wholeMailBytes;
}

function decideOptions(ctx: ProcessContext): DecideOptions {
  return { allowlist: ctx.deps.allowlist, senderPolicy: ctx.deps.senderPolicy, maxLinks: ctx.deps.maxLinks, mentionHosts: ctx.deps.faspex5?.hosts };
}

/** Fetch (unless the batch brought it) and decide one small mail whole (undefined: expunged); only a dead connection throws. */
async function decideWhole(ctx: ProcessContext, mail: ListedMail, raw: Buffer | undefined): Promise<ReadMail | undefined> {
  try {
    if (!raw) {
      const [one] = await collect(fetchWhole(ctx.client, [mail], ctx.tuning.batchBytes));
      raw = one?.raw;
    }
    if (!raw) return await gone(ctx, mail);
    return { meta: mail, decision: await decideMail(raw, decideOptions(ctx)), bytesFetched: raw.length };
  } catch (err) {
    // A dead connection is not the mail's fault: read it again after reconnecting.
    if (!ctx.client.usable) throw err;
    return { meta: mail, decision: await failed(raw ? headerOf(raw) : Buffer.alloc(0), `cannot be read: ${(err as Error).message}`), bytesFetched: raw?.length ?? 0 };
  }
}

/** Fetch (unless the batch brought them) the planned parts of a big mail and decide it; only a dead connection throws. */
async function decidePlanned(ctx: ProcessContext, plan: MailPlan, fetched: FetchedParts | undefined): Promise<ReadMail> {
  const { meta } = plan;
  try {
    fetched ??= await fetchParts(ctx.client, plan, ctx.tuning.maxPartBytes);
    const decision = await decideFetched(meta.header, plan.root, fetched.parts, decideOptions(ctx));
    return { meta, decision, bytesFetched: fetched.bytesFetched };
  } catch (err) {
    if (!ctx.client.usable) throw err;
    return { meta, decision: await failed(meta.header, `cannot be read: ${(err as Error).message}`), bytesFetched: fetched?.bytesFetched ?? 0 };
  }
}

/**
 * Listed, then not delivered when asked for alone. Expunged meanwhile (a person or a rule deleted
 * it, another client moved it): nothing to read or record, undefined. Still there but refused: the
 * server will not give it, recorded as unreadable by its header.
 */
async function gone(ctx: ProcessContext, mail: ListedMail): Promise<ReadMail | undefined> {
  const header = await fetchHeader(ctx.client, mail.uid);
  if (!header) {
    ctx.log.info({ uid: mail.uid }, 'mail expunged after it was listed, before it was read: nothing to do');
    return undefined;
  }
  return { meta: mail, decision: await failed(header, 'the server lists it but did not deliver its content when asked'), bytesFetched: 0 };
}

/** Given up on: still named in the record and the log by what its header says. */
async function failed(header: Buffer, reason: string): Promise<MailDecision> {
  return { kind: 'failed', links: [], warnings: [], reason, ...(await headerFacts(header)) };
}

/** The header block of a raw message (up to the first empty line). */
function headerOf(raw: Buffer): Buffer {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 2 : lf >= 0 ? lf + 1 : raw.length;
  return raw.subarray(0, end);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
