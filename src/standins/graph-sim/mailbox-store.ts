/**
 * The Graph stand-in's mailboxes: folders, messages and a change log per folder, and the delta
 * rounds over it as Microsoft documents them for messages (concepts/delta-query-messages):
 * the first round lists every message in the folder; each page has @odata.nextLink, the last
 * @odata.deltaLink; a later round with the delta link lists what was created, changed (a
 * category PATCHed: the same message again) or removed (`@removed`) since. Tokens are opaque
 * to the client (base64url JSON here) and die with `expireDeltaTokens()` (410 syncStateNotFound).
 */
import { randomBytes } from 'node:crypto';

export interface SimAttachment {
  id: string;
  type: '#microsoft.graph.fileAttachment' | '#microsoft.graph.itemAttachment';
  name: string;
  contentType: string;
  size: number;
  /** file attachments: their bytes (served only when asked for contentBytes) */
  contentBytes?: string;
  /** item attachments: the attached message */
  item?: Record<string, unknown>;
}

export interface SimMessage {
  id: string;
  folderId: string;
  receivedDateTime: string;
  internetMessageId: string;
  subject: string;
  from: { emailAddress: { name: string; address: string } };
  body: { contentType: 'html' | 'text'; content: string };
  internetMessageHeaders: Array<{ name: string; value: string }>;
  categories: string[];
  hasAttachments: boolean;
  isRead: boolean;
  attachments: SimAttachment[];
  /** the change-log sequence of its last change */
  seq: number;
}

export interface SimFolder {
  id: string;
  displayName: string;
  parentFolderId: string | undefined;
  wellKnown: string | undefined;
}

/** A removal seen by the folder it left (moved away or deleted). */
interface Removal {
  id: string;
  folderId: string;
  seq: number;
}

export class MailboxStore {
  readonly folders = new Map<string, SimFolder>();
  readonly messages = new Map<string, SimMessage>();
  private readonly removals: Removal[] = [];
  private seq = 0;

  constructor(readonly address: string) {
    for (const name of ['Inbox', 'Archive', 'Deleted Items']) this.addFolder(name, undefined, name.toLowerCase().replace(' ', ''));
  }

  addFolder(displayName: string, parentFolderId: string | undefined, wellKnown?: string): SimFolder {
    const folder = { id: `fld-${randomBytes(9).toString('base64url')}`, displayName, parentFolderId, wellKnown };
    this.folders.set(folder.id, folder);
    return folder;
  }

  /** a well-known name (inbox) or an id */
  folder(ref: string): SimFolder | undefined {
    const lower = ref.toLowerCase();
    return this.folders.get(ref) ?? [...this.folders.values()].find((f) => f.wellKnown === lower);
  }

  add(m: Omit<SimMessage, 'seq' | 'id'>): SimMessage {
    const message = { ...m, id: `AAMk-${randomBytes(18).toString('base64url')}`, seq: ++this.seq };
    this.messages.set(message.id, message);
    return message;
  }

  touch(m: SimMessage): void {
    m.seq = ++this.seq;
  }

  move(m: SimMessage, to: SimFolder): void {
    this.removals.push({ id: m.id, folderId: m.folderId, seq: ++this.seq });
    m.folderId = to.id;
    m.seq = this.seq;
  }

  /** Deleted for good (emptied from Deleted Items, a retention rule): a GET of it answers 404. */
  remove(m: SimMessage): void {
    this.removals.push({ id: m.id, folderId: m.folderId, seq: ++this.seq });
    this.messages.delete(m.id);
  }

  get now(): number {
    return this.seq;
  }

  /**
   * What changed in a folder in (since, upTo], from after `after` (the page before ended there):
   * messages now in it, and removals from it (not in a first round); by change order. Paging by
   * change sequence, not by offset, so mail moved away between pages shifts nothing.
   */
  changes(folderId: string, since: number, upTo: number, after = since): Array<{ seq: number; entry: { message: SimMessage } | { removed: string } }> {
    const from = Math.max(since, after);
    const out: Array<{ seq: number; entry: { message: SimMessage } | { removed: string } }> = [];
    for (const m of this.messages.values()) if (m.folderId === folderId && m.seq > from && m.seq <= upTo) out.push({ seq: m.seq, entry: { message: m } });
    if (since > 0) for (const r of this.removals) if (r.folderId === folderId && r.seq > from && r.seq <= upTo && this.messages.get(r.id)?.folderId !== folderId) out.push({ seq: r.seq, entry: { removed: r.id } });
    return out.sort((a, b) => a.seq - b.seq);
  }
}

/** The state a delta URL carries: the round's window, where the page starts, what was selected. */
export interface DeltaState {
  folderId: string;
  since: number;
  upTo: number;
  /** the change sequence the previous page ended at (0: none yet) */
  after: number;
  select: string | undefined;
  /** tokens of an older generation were expired by the test */
  generation: number;
}

export const encodeState = (s: DeltaState) => Buffer.from(JSON.stringify(s)).toString('base64url');
export function decodeState(token: string): DeltaState | undefined {
  try {
    const s = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as DeltaState;
    return typeof s.folderId === 'string' && Number.isInteger(s.since) && Number.isInteger(s.after) ? s : undefined;
  } catch {
    return undefined;
  }
}
