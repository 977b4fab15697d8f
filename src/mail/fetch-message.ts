/**
 * Reading mail from IMAP, per chunk of UIDs. First what every mail costs little to tell (uid,
 * size, date: listMails). A small mail (almost every notification) is then fetched whole
 * (fetchWhole); a big one has its structure and header fetched (fetchMeta), then only the
 * sections the caller asks for (read-chunk.ts has mime-plan.ts pick them: inline text and
 * attached messages), each capped: a 20 MB attachment is never downloaded. Both ask for many
 * mails in one FETCH: whole mails, and mails that need the same sections (most look alike),
 * share one command, split so that no command brings more than a byte budget. No ENVELOPE, no
 * BODYSTRUCTURE where it is not needed: imapflow's parsing of them cost more than the rest of
 * the reading. Fetch iterators are drained into arrays before any other command is issued: a
 * command inside a `for await` over client.fetch deadlocks imapflow. Only IMAP here: what the
 * sections mean is mime-plan's.
 */
import type { FetchMessageObject, ImapFlow, MessageStructureObject } from 'imapflow';
import type { ListedMail, MessageMeta } from './types.js';
import { uidSet } from './uid-set.js';

export interface FetchedParts {
  /** section (lower case, as asked) → its bytes */
  parts: Map<string, Buffer>;
  /** bytes that came over the wire for this mail (header and parts) */
  bytesFetched: number;
}

/** A mail and the sections to fetch for it (none: nothing in it can hold a link). */
export interface PartsRequest {
  meta: MessageMeta;
  sections: readonly string[];
}

/** Step 1, for a chunk of UIDs: the ones that still exist, ascending. */
export async function listMails(client: ImapFlow, uids: readonly number[]): Promise<ListedMail[]> {
  const rows: FetchMessageObject[] = [];
  for await (const row of client.fetch(uidSet(uids), { uid: true, size: true, internalDate: true }, { uid: true })) rows.push(row);
  return rows.map((row) => ({ uid: row.uid, size: row.size, internalDate: dateOf(row.internalDate) })).sort((a, b) => a.uid - b.uid);
}

/**
 * Small mails whole, as few FETCHes as the byte budget allows (their sizes are known), yielding
 * each once its command completed. `raw` is undefined when the server did not deliver the mail
 * (no row, or a refused command while the connection lives): the caller reads it alone then.
 */
export async function* fetchWhole<M extends ListedMail>(client: ImapFlow, mails: readonly M[], budgetBytes: number): AsyncGenerator<{ mail: M; raw: Buffer | undefined }> {
  for (const batch of byBudget(mails.map((mail) => ({ mail, bytes: mail.size ?? budgetBytes })), budgetBytes)) {
    const rows = new Map<number, Buffer>();
    try {
      for await (const row of client.fetch(uidSet(batch.map((b) => b.mail.uid)), { uid: true, source: true }, { uid: true })) if (row.source) rows.set(row.uid, row.source);
    } catch (err) {
      if (!client.usable) throw err;
      rows.clear();
    }
    for (const { mail } of batch) yield { mail, raw: rows.get(mail.uid) };
  }
}

/** The header block of one mail (a mail given up on is still named by it); undefined: it is gone. */
export async function fetchHeader(client: ImapFlow, uid: number): Promise<Buffer | undefined> {
  const row = await client.fetchOne(String(uid), { uid: true, headers: true }, { uid: true });
  return row ? (row.headers ?? Buffer.alloc(0)) : undefined;
}

/** A big mail's structure and header, for a chunk of UIDs (ascending). */
export async function fetchMeta(client: ImapFlow, uids: readonly number[]): Promise<MessageMeta[]> {
  const out: MessageMeta[] = [];
  const rows: FetchMessageObject[] = [];
  for await (const row of client.fetch(uidSet(uids), { uid: true, size: true, bodyStructure: true, headers: true, internalDate: true }, { uid: true })) {
    rows.push(row);
  }
  for (const row of rows) out.push({ uid: row.uid, size: row.size, structure: row.bodyStructure, header: row.headers ?? Buffer.alloc(0), internalDate: dateOf(row.internalDate) });
  return out.sort((a, b) => a.uid - b.uid);
}

function dateOf(value: Date | string | undefined): Date | undefined {
  return value === undefined ? undefined : new Date(value);
}

/** Step 2 for one mail: the sections asked for, each capped at `maxPartBytes`. */
export async function fetchParts(client: ImapFlow, request: PartsRequest, maxPartBytes: number): Promise<FetchedParts> {
  const { meta, sections } = request;
  if (sections.length === 0) return partsOf(meta, undefined);
  const row = await client.fetchOne(String(meta.uid), { uid: true, bodyParts: sections.map((key) => ({ key, maxLength: maxPartBytes })) }, { uid: true });
  if (!row) throw new Error(`message ${meta.uid} disappeared before its parts could be read`);
  return partsOf(meta, row);
}

export interface BatchOptions {
  maxPartBytes: number;
  /** the most one FETCH may bring, estimated from BODYSTRUCTURE sizes (at least one mail each) */
  budgetBytes: number;
}

/**
 * Step 2 for many mails, yielding each mail once its command is complete (so the consumer may
 * issue commands between yields). `fetched` is undefined when the batch did not deliver the mail
 * (no row for it, or the server refused the command while the connection lives): the caller
 * then reads that one mail alone, which reports its own error. A dead connection throws.
 */
export async function* fetchPartsBatched<R extends PartsRequest>(client: ImapFlow, requests: readonly R[], options: BatchOptions): AsyncGenerator<{ request: R; fetched: FetchedParts | undefined }> {
  const groups = new Map<string, { sections: readonly string[]; items: Array<{ request: R; bytes: number }> }>();
  for (const request of requests) {
    const { meta, sections } = request;
    if (sections.length === 0) {
      yield { request, fetched: partsOf(meta, undefined) };
      continue;
    }
    const key = sections.join('\n');
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { sections, items: [] }));
    group.items.push({ request, bytes: estimateBytes(meta, sections, options.maxPartBytes) });
  }
  for (const { sections, items } of groups.values()) {
    const query = { uid: true, bodyParts: sections.map((key) => ({ key, maxLength: options.maxPartBytes })) } as const;
    for (const batch of byBudget(items, options.budgetBytes)) {
      const rows = new Map<number, FetchMessageObject>();
      try {
        for await (const row of client.fetch(uidSet(batch.map((i) => i.request.meta.uid)), query, { uid: true })) rows.set(row.uid, row);
      } catch (err) {
        if (!client.usable) throw err;
        rows.clear();
      }
      for (const { request } of batch) {
        const row = rows.get(request.meta.uid);
        yield { request, fetched: row ? partsOf(request.meta, row) : undefined };
      }
    }
  }
}

function partsOf(meta: MessageMeta, row: FetchMessageObject | undefined): FetchedParts {
  const parts = new Map<string, Buffer>();
  let bytesFetched = meta.header.length;
  for (const [key, value] of row?.bodyParts ?? []) {
    // a partial fetch answers BODY[1]<0>; imapflow keeps the origin in the key
    parts.set(key.replace(/\]?<\d+>$/, '').toLowerCase(), value);
    bytesFetched += value.length;
  }
  return { parts, bytesFetched };
}

/** What the parts of one mail may weigh: each section capped, all of them at most the mail. */
function estimateBytes(meta: MessageMeta, sections: readonly string[], maxPartBytes: number): number {
  const sizes = new Map<string, number>();
  const walk = (node: MessageStructureObject) => {
    if (node.part && node.size !== undefined) sizes.set(node.part, node.size);
    for (const child of node.childNodes ?? []) walk(child);
  };
  if (meta.structure) walk(meta.structure);
  const sum = sections.reduce((n, s) => n + Math.min(sizes.get(s) ?? maxPartBytes, maxPartBytes), 0);
  return Math.min(sum, meta.size ?? sum);
}

function* byBudget<T extends { bytes: number }>(items: readonly T[], budget: number): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (batch.length > 0 && bytes + item.bytes > budget) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += item.bytes;
  }
  if (batch.length > 0) yield batch;
}
