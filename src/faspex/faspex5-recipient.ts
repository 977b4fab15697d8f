/**
 * Which recipient a download is made as: `transfer_spec/download` wants `recipient_user_id` or
 * `recipient_workgroup_id`, else Faspex answers "Not authorized" (faspex5-boxes.md §4). A package
 * can go to a user and a shared inbox at once, so the entry is the one that matches the box being
 * read, not blindly the first (as ascli does): for a shared inbox or workgroup, the entry with
 * that box's id and type; for the own inbox, the user's entry (by id when known, else name or
 * e-mail). Without a box (a link from a mail): the user's own entry, then an entry of a box the
 * user reads, then the first. Pure.
 */
import type { BoxKind } from './faspex5-box-spec.js';

export interface RecipientEntry {
  id?: string | undefined;
  name?: string | undefined;
  email?: string | undefined;
  recipient_type?: string | undefined;
}

export type RecipientQuery = { recipient_user_id: string } | { recipient_workgroup_id: string } | Record<string, never>;

export interface RecipientChoice {
  /** the configured user (name or e-mail) */
  user?: string | undefined;
  /** the user's id (GET account), when known */
  userId?: string | undefined;
  /** the box the package was found in */
  box?: { kind: BoxKind; id?: string | undefined } | undefined;
  /** boxes the user reads, tried when no box is given and the user is not a recipient */
  boxes?: ReadonlyArray<{ kind: BoxKind; id?: string | undefined }> | undefined;
}

export function pickRecipient(recipients: readonly RecipientEntry[], choice: RecipientChoice): RecipientQuery {
  const isUser = (r: RecipientEntry) => r.recipient_type === 'user' || r.recipient_type === undefined;
  const wanted = choice.user?.toLowerCase();
  const mine = recipients.find((r) => isUser(r) && ((choice.userId !== undefined && r.id === choice.userId)
    || (wanted !== undefined && (r.name?.toLowerCase() === wanted || r.email?.toLowerCase() === wanted))));
  const inBox = (b: { kind: BoxKind; id?: string | undefined }) => recipients.find((r) => r.recipient_type === b.kind && r.id !== undefined && r.id === b.id);
  if (choice.box) {
    const r = choice.box.kind === 'inbox' ? mine : inBox(choice.box);
    return queryOf(r, true);
  }
  if (mine) return queryOf(mine, true);
  for (const b of choice.boxes ?? []) {
    const r = b.kind === 'inbox' ? undefined : inBox(b);
    if (r) return queryOf(r, false);
  }
  return queryOf(recipients[0], false);
}

function queryOf(r: RecipientEntry | undefined, user: boolean): RecipientQuery {
  if (!r?.id) return {};
  if (r.recipient_type === 'user' || (r.recipient_type === undefined && user)) return { recipient_user_id: r.id };
  if (r.recipient_type === 'workgroup' || r.recipient_type === 'shared_inbox') return { recipient_workgroup_id: r.id };
  return {};
}
