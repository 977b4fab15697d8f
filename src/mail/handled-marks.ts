/**
 * Marks for people looking at the mailbox: a keyword saying what the service did with a mail,
 * and optionally a move to a folder. Never \Seen (that is the reader's flag). Cosmetic: the
 * Redis progress is the source of truth, so a failure here is logged, never fatal.
 */
import type { ImapFlow, MailboxObject } from 'imapflow';

export type MailOutcomeKind = 'queued' | 'no-link' | 'failed' | 'refused';

export const KEYWORDS: Record<MailOutcomeKind, string> = {
  queued: '$FaspexQueued',
  'no-link': '$FaspexNoLink',
  failed: '$FaspexFailed',
  refused: '$FaspexRefused',
};

/** Custom keywords stick only where PERMANENTFLAGS has `\*` (Exchange, for one, has not). */
export function keywordsAllowed(mailbox: Pick<MailboxObject, 'permanentFlags'> | false | undefined): boolean {
  if (!mailbox) return false;
  return mailbox.permanentFlags === undefined || mailbox.permanentFlags.has('\\*');
}

export interface MarkOptions {
  keyword: boolean;
  moveTo: string | undefined;
}

/** Runs outside any fetch iterator (issuing commands inside one deadlocks imapflow). */
export async function markHandled(client: ImapFlow, uid: number, outcome: MailOutcomeKind, options: MarkOptions, ensured: Set<string>): Promise<void> {
  if (options.keyword && keywordsAllowed(client.mailbox)) {
    await client.messageFlagsAdd(String(uid), [KEYWORDS[outcome]], { uid: true });
  }
  if (options.moveTo) {
    if (!ensured.has(options.moveTo)) {
      await ensureMailbox(client, options.moveTo);
      ensured.add(options.moveTo);
    }
    await client.messageMove(String(uid), options.moveTo, { uid: true });
  }
}

async function ensureMailbox(client: ImapFlow, path: string): Promise<void> {
  const list = await client.list();
  if (list.some((m) => m.path === path)) return;
  try {
    await client.mailboxCreate(path);
  } catch (e) {
    // Created meanwhile by someone else: fine.
    if (!/ALREADYEXISTS|already exists/i.test(String((e as { responseText?: string }).responseText ?? (e as Error).message))) throw e;
  }
}
