/**
 * A Microsoft 365 mailbox read through Microsoft Graph (a MailSource, src/mail/mail-source.ts):
 *  - new mail by delta queries on the watched folder
 *    (/users/{mailbox}/mailFolders/{folder}/messages/delta with $select), following
 *    @odata.nextLink page by page; the last page's @odata.deltaLink is the cursor of the next round;
 *  - a mail's text: the message's body and original header fields, and for an attachment that is
 *    a message (#microsoft.graph.itemAttachment) its item, expanded; file attachments are listed
 *    by name and type only, never fetched;
 *  - marks: a category per outcome (PATCH categories), and a move to IMAP_MOVE_TO by display name
 *    (created when missing).
 * One request at a time per mailbox: Graph allows an app 4 concurrent requests per mailbox.
 */
import type { ChangePage, MailSource, SourceFailure, SourceMail } from '../mail-source.js';
import type { MailOutcomeKind } from '../types.js';
import { GraphError, type GraphClient } from './graph-client.js';
import { graphFailure } from './graph-failure.js';
import { renderGraphMessage, type GraphMessage } from './graph-mime.js';

/** The category people see per outcome (Outlook shows categories; IMAP keywords are KEYWORDS). */
export const CATEGORIES: Record<MailOutcomeKind, string> = {
  queued: 'Faspex queued',
  'no-link': 'Faspex no link',
  damaged: 'Faspex link damaged',
  failed: 'Faspex failed',
  refused: 'Faspex refused',
};

const OURS = new Set(Object.values(CATEGORIES));
/** What a delta page carries per mail: enough to tell new from handled, nothing of the body. */
export const DELTA_SELECT = 'id,receivedDateTime,categories,hasAttachments';
export const MESSAGE_SELECT = 'id,internetMessageId,subject,from,sender,receivedDateTime,body,internetMessageHeaders,hasAttachments';
/** Graph's own page size for messages/delta is 10; 50 takes a backlog in fewer round trips. */
export const DELTA_PAGE_SIZE = 50;
const WELL_KNOWN = new Set(['inbox', 'archive', 'junkemail', 'deleteditems', 'drafts', 'sentitems']);
const ITEM_ATTACHMENT = '#microsoft.graph.itemAttachment';

export interface GraphMail extends SourceMail {
  categories: string[];
  hasAttachments: boolean;
}

interface DeltaPage {
  value?: Array<{ id?: string; receivedDateTime?: string; categories?: string[]; hasAttachments?: boolean; '@removed'?: unknown }>;
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

export class GraphSource implements MailSource<GraphMail> {
  private folderPath: string | undefined;
  private moveToId: string | undefined;
  private readonly user: string;

  constructor(
    private readonly graph: GraphClient,
    readonly mailbox: string,
    private readonly o: { folder: string; markKeyword: boolean; moveTo: string | undefined },
  ) {
    this.user = `/users/${encodeURIComponent(mailbox)}`;
  }

  async open(): Promise<void> {
    this.folderPath = `${this.user}/mailFolders/${encodeURIComponent(await this.folderId(this.o.folder, false))}`;
    this.moveToId = undefined;
  }

  async page(cursor: string | undefined): Promise<ChangePage<GraphMail>> {
    const url = cursor ?? `${this.folderPath}/messages/delta?$select=${DELTA_SELECT}`;
    const page = await this.graph.get<DeltaPage>(url, { prefer: `odata.maxpagesize=${DELTA_PAGE_SIZE}` });
    const mails: GraphMail[] = [];
    for (const m of page.value ?? []) {
      // removed (moved away or deleted): nothing to read
      if (!m.id || m['@removed'] !== undefined) continue;
      const categories = m.categories ?? [];
      mails.push({ id: m.id, receivedAt: m.receivedDateTime ? new Date(m.receivedDateTime) : undefined, categories, hasAttachments: m.hasAttachments === true, marked: categories.some((c) => OURS.has(c)) });
    }
    // oldest first, as an IMAP inbox is read by UID
    mails.sort((a, b) => (a.receivedAt?.getTime() ?? 0) - (b.receivedAt?.getTime() ?? 0));
    const next = page['@odata.nextLink'];
    const delta = page['@odata.deltaLink'];
    if (!next && !delta) throw new GraphError(502, 'NoDeltaLink', 'a delta page had neither @odata.nextLink nor @odata.deltaLink', undefined, url);
    return { mails, cursor: (next ?? delta)!, final: !next };
  }

  async read(mail: GraphMail): Promise<{ raw: Buffer; bytesFetched: number } | undefined> {
    const path = `${this.user}/messages/${encodeURIComponent(mail.id)}`;
    let message: GraphMessage & { hasAttachments?: boolean };
    try {
      message = await this.graph.get<GraphMessage & { hasAttachments?: boolean }>(`${path}?$select=${MESSAGE_SELECT}`);
    } catch (err) {
      // deleted since the delta page listed it: the next delta page says so too (@removed)
      if (itemGone(err)) return undefined;
      throw err;
    }
    let bytes = JSON.stringify(message).length;
    const attached: GraphMessage[] = [];
    if (message.hasAttachments ?? mail.hasAttachments) {
      // names and types only: no contentBytes of a file attachment crosses the wire
      const list = await this.graph.get<{ value?: Array<{ id?: string; '@odata.type'?: string }> }>(`${path}/attachments?$select=id,name,contentType,size`);
      bytes += JSON.stringify(list).length;
      for (const a of list.value ?? []) {
        if (a['@odata.type'] !== ITEM_ATTACHMENT || !a.id) continue;
        const item = await this.graph.get<{ item?: GraphMessage & { '@odata.type'?: string } }>(`${path}/attachments/${encodeURIComponent(a.id)}?$expand=microsoft.graph.itemattachment/item`);
        bytes += JSON.stringify(item).length;
        // an attached calendar item or contact holds no notification
        if (item.item && (item.item['@odata.type'] ?? '#microsoft.graph.message') === '#microsoft.graph.message') attached.push(item.item);
      }
    }
    return { raw: renderGraphMessage(message, attached), bytesFetched: bytes };
  }

  async mark(byOutcome: ReadonlyMap<MailOutcomeKind, readonly GraphMail[]>): Promise<void> {
    for (const [outcome, mails] of byOutcome) {
      for (const mail of mails) {
        const path = `${this.user}/messages/${encodeURIComponent(mail.id)}`;
        try {
          if (this.o.markKeyword) await this.graph.patch(path, { categories: [...mail.categories.filter((c) => !OURS.has(c)), CATEGORIES[outcome]] });
          if (this.o.moveTo) await this.move(path, this.o.moveTo);
        } catch (err) {
          // deleted since it was read: nothing to mark or move, and the rest of the chunk still is
          if (!itemGone(err)) throw err;
        }
      }
    }
  }

  /** Moves a message; a destination gone since it was looked up (deleted by a person) is found, or made, once more. */
  private async move(path: string, folder: string): Promise<void> {
    for (let again = false; ; again = true) {
      this.moveToId ??= await this.folderId(folder, true);
      try {
        await this.graph.post(`${path}/move`, { destinationId: this.moveToId });
        return;
      } catch (err) {
        if (again || !itemGone(err)) throw err;
        this.moveToId = undefined;
      }
    }
  }

  mailsFault(err: unknown): boolean {
    // an attachment gone while the mail is still there (404), or too big / not JSON: the mail's own problem
    return (err instanceof GraphError && err.status === 404) || err instanceof SyntaxError || (err as { code?: unknown }).code === 'RESPONSE_TOO_LARGE';
  }

  classify(err: unknown): SourceFailure {
    return graphFailure(err, this.mailbox, this.graph.lastToken());
  }

  async close(): Promise<void> {
    await this.graph.close();
  }

  /** A folder's id by display name: a well-known name as is, else at the top or under Inbox; created when asked. */
  private async folderId(name: string, create: boolean): Promise<string> {
    if (WELL_KNOWN.has(name.toLowerCase())) return name.toLowerCase();
    const filter = `?$filter=${encodeURIComponent(`displayName eq '${name.replace(/'/g, "''")}'`)}&$select=id,displayName`;
    for (const parent of [`${this.user}/mailFolders`, `${this.user}/mailFolders/inbox/childFolders`]) {
      const found = await this.graph.get<{ value?: Array<{ id?: string }> }>(`${parent}${filter}`);
      const id = found.value?.[0]?.id;
      if (id) return id;
    }
    if (!create) throw new GraphError(404, 'ErrorFolderNotFound', `no folder named "${name}" at the top of the mailbox or under Inbox`, undefined, '/mailFolders');
    const made = await this.graph.post<{ id?: string }>(`${this.user}/mailFolders`, { displayName: name });
    if (!made.id) throw new GraphError(502, 'NoFolderId', `creating the folder "${name}" returned no id`, undefined, '/mailFolders');
    return made.id;
  }
}

/**
 * Graph's answer for a message (or folder) that no longer exists. Not any 404: a mailbox Graph
 * does not know (ErrorInvalidUser) is a configuration problem that must surface.
 */
function itemGone(err: unknown): boolean {
  return err instanceof GraphError && err.status === 404 && err.code === 'ErrorItemNotFound';
}
