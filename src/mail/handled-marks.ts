/**
 * Marks for people looking at the mailbox: a keyword saying what the service did with a mail,
 * and optionally a move to a folder. Never \Seen (that is the reader's flag). Cosmetic: the
 * Redis progress is the source of truth, so a failure here is logged, never fatal.
 */
import type { ImapFlow, MailboxObject } from 'imapflow';
import type { MailOutcomeKind } from './types.js';
import { uidSet } from './uid-set.js';

export const KEYWORDS: Record<MailOutcomeKind, string> = {
  queued: '$FaspexQueued',
  'no-link': '$FaspexNoLink',
  damaged: '$FaspexLinkDamaged',
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

/**
 * Marks a chunk of mails: one STORE per outcome over its UID set, then one MOVE of them all.
 * Runs outside any fetch iterator (issuing commands inside one deadlocks imapflow).
 */
export async function markHandled(client: ImapFlow, byOutcome: ReadonlyMap<MailOutcomeKind, readonly number[]>, options: MarkOptions, ensured: Set<string>): Promise<void> {
  const all = [...byOutcome.values()].flat();
  if (all.length === 0) return;
  // imapflow answers a refused STORE or MOVE with false, not a throw: said here, after the move
  // was still tried, so the caller logs it
  const refused: string[] = [];
  if (options.keyword && keywordsAllowed(client.mailbox)) {
    for (const [outcome, uids] of byOutcome) {
      if (uids.length > 0 && !(await client.messageFlagsAdd(uidSet(uids), [KEYWORDS[outcome]], { uid: true }))) refused.push(`the keyword ${KEYWORDS[outcome]}`);
    }
  }
  const folder = options.moveTo;
  if (folder) {
    const move = async () => {
      if (!ensured.has(folder)) {
        await ensureMailbox(client, folder);
        ensured.add(folder);
      }
      return (await client.messageMove(uidSet(all), folder, { uid: true })) !== false;
    };
    // a folder made earlier may have been deleted since (by a person): look for it, or make it, once more
    if (!(await move())) {
      ensured.delete(folder);
      if (!(await move())) refused.push(`the move to ${folder}`);
    }
  }
  if (refused.length > 0) {
    throw new Error(`the IMAP server refused ${refused.join(' and ')} (${client.mailbox ? client.mailbox.path : 'no mailbox'}, UIDs ${uidSet(all)}): check that the account may flag mail and write to IMAP_MOVE_TO`);
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
