/**
 * Reading mail from IMAP for extraction, in two steps per chunk of UIDs: first what every mail
 * costs little to tell (uid, envelope, size, structure, header), then for each mail only the
 * parts mime-plan.ts picked. Fetch iterators are drained into arrays before any other command
 * is issued: a command inside a `for await` over client.fetch deadlocks imapflow.
 */
import type { FetchMessageObject, ImapFlow, MessageEnvelopeObject, MessageStructureObject } from 'imapflow';
import { planMessage, planSections, renderMessage } from './mime-plan.js';

export interface MessageMeta {
  uid: number;
  size: number | undefined;
  envelope: MessageEnvelopeObject | undefined;
  structure: MessageStructureObject | undefined;
  header: Buffer;
}

export interface FetchedMessage {
  /** a MIME message with only the parts extraction needs */
  raw: Buffer;
  /** bytes that came over the wire for this mail (header and parts) */
  bytesFetched: number;
}

/** Step 1, for a chunk of UIDs (ascending, already filtered to > lastUid). */
export async function fetchMeta(client: ImapFlow, uids: readonly number[]): Promise<MessageMeta[]> {
  const out: MessageMeta[] = [];
  const rows: FetchMessageObject[] = [];
  for await (const row of client.fetch(uids.join(','), { uid: true, envelope: true, size: true, bodyStructure: true, headers: true }, { uid: true })) {
    rows.push(row);
  }
  for (const row of rows) {
    out.push({ uid: row.uid, size: row.size, envelope: row.envelope, structure: row.bodyStructure, header: row.headers ?? Buffer.alloc(0) });
  }
  return out.sort((a, b) => a.uid - b.uid);
}

/** Step 2: the text parts and attached messages of one mail, each capped at `maxPartBytes`. */
export async function fetchForExtraction(client: ImapFlow, meta: MessageMeta, maxPartBytes: number, maxDepth = 3): Promise<FetchedMessage> {
  const plan = meta.structure ? planMessage(meta.structure, maxDepth) : undefined;
  const sections = plan ? planSections(plan) : [];
  const parts = new Map<string, Buffer>();
  let bytesFetched = meta.header.length;
  if (sections.length > 0) {
    const row = await client.fetchOne(String(meta.uid), { uid: true, bodyParts: sections.map((key) => ({ key, maxLength: maxPartBytes })) }, { uid: true });
    if (!row) throw new Error(`message ${meta.uid} disappeared before its parts could be read`);
    for (const [key, value] of row.bodyParts ?? []) {
      // a partial fetch answers BODY[1]<0>; imapflow keeps the origin in the key
      parts.set(key.replace(/\]?<\d+>$/, '').toLowerCase(), value);
      bytesFetched += value.length;
    }
  }
  return { raw: renderMessage(meta.header, plan, parts), bytesFetched };
}
