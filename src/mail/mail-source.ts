/**
 * What a mail source other than IMAP supplies to the polling reader (polling-reader.ts): how to
 * list new mail page by page from a cursor, how to read one mail's text parts as a small MIME
 * message (decide.ts reads it: one extractor, one decision), and how to mark handled mail for
 * people. Everything else (the lease and fence, progress in Redis, enqueue before commit, status
 * events, backoff) is the reader's and settle-chunk.ts's. Microsoft Graph is one such source
 * (src/mail/graph/graph-source.ts); the Gmail API or a maildir would be one more file like it.
 */
import type { MailOutcomeKind } from './types.js';

export interface SourceMail {
  /** the source's stable id of the mail (a Graph immutable id, a Gmail message id, a file name) */
  id: string;
  receivedAt?: Date | undefined;
  /** it already carries one of the service's marks: handled before (a resync after an expired cursor) */
  marked: boolean;
}

export interface ChangePage<M extends SourceMail> {
  mails: M[];
  /** where to continue once this page is handled: kept in Redis with the page's outcome */
  cursor: string;
  /** the last page of this round: the source has nothing newer now */
  final: boolean;
}

/** What a failure means to the reader. */
export interface SourceFailure {
  /** for /healthz and the packages page, in words a person acts on (no secret) */
  reason: string;
  /** the server said when to ask again (HTTP 429/503 Retry-After) */
  retryInMs?: number | undefined;
  /** the cursor is no longer valid: read everything again from the start */
  resync?: boolean | undefined;
  /** the credentials were refused: renew them before the next attempt */
  renewLogin?: boolean | undefined;
}

export interface MailSource<M extends SourceMail = SourceMail> {
  /** names the mailbox in jobs and logs: `mailbox` of a job's source */
  readonly mailbox: string;
  /** checks access and finds what it needs (folder ids); throws on failure */
  open(): Promise<void>;
  /** one page of new or changed mail after `cursor` (undefined: everything, from the start) */
  page(cursor: string | undefined): Promise<ChangePage<M>>;
  /**
   * the mail's text parts (and attached messages) as a small MIME message, and the bytes read for
   * it; undefined when the mail is gone since its page listed it (deleted, moved away): nothing to record
   */
  read(mail: M): Promise<{ raw: Buffer; bytesFetched: number } | undefined>;
  /** marks for people (categories, a move); cosmetic */
  mark(byOutcome: ReadonlyMap<MailOutcomeKind, readonly M[]>): Promise<void>;
  /** whether an error of read() is the mail's own (record it as unreadable) rather than the connection's */
  mailsFault(err: unknown): boolean;
  classify(err: unknown): SourceFailure;
  close(): Promise<void>;
}
