/**
 * The boxes of a Faspex 5 API client (FASPEX5_CLIENTS `boxes`, `backfill`): which mailboxes a
 * sweep reads, and what the first sweep of a new box does. Pure.
 *
 *   "inbox"                    the user's own inbox            → GET inbox/packages
 *   "shared_inbox:<exact name>" a shared inbox the user is in   → GET shared_inboxes/<id>/packages
 *   "workgroup:<exact name>"    a workgroup the user is in      → GET workgroups/<id>/packages
 *
 * Names are matched exactly (as ascli does, faspex5-boxes.md §2): the server's `q` search is
 * partial and case-insensitive, so "Ingest" must not pick "Ingest archive".
 */
import { permanent } from '../errors.js';

export type BoxKind = 'inbox' | 'shared_inbox' | 'workgroup';

export interface BoxSpec {
  kind: BoxKind;
  /** the exact name of a shared inbox or workgroup; none for the own inbox */
  name?: string;
}

/** A box whose id is known (looked up by name at start). */
export interface ResolvedBox extends BoxSpec {
  /** the shared inbox's or workgroup's id; none for the own inbox */
  id?: string;
}

/** `none`: the first sweep of a box only remembers; `all`: fetch everything; a date: created since. */
export type Backfill = { kind: 'none' } | { kind: 'all' } | { kind: 'since'; since: string };

export function parseBoxSpec(text: string, where: string): BoxSpec {
  const t = text.trim();
  if (t === 'inbox') return { kind: 'inbox' };
  const m = /^(shared_inbox|workgroup):(.+)$/.exec(t);
  if (!m || m[2]!.trim() === '') {
    throw permanent('CONFIG', `${where}: box "${t}" is not "inbox", "shared_inbox:<exact name>" or "workgroup:<exact name>"`);
  }
  return { kind: m[1] as BoxKind, name: m[2]!.trim() };
}

/** The box as people and the configuration write it: `inbox`, `workgroup:Dailies`. */
export function boxLabel(box: BoxSpec): string {
  return box.kind === 'inbox' ? 'inbox' : `${box.kind}:${box.name ?? ''}`;
}

export function parseBackfill(text: string | undefined, where: string): Backfill {
  const t = (text ?? 'none').trim();
  if (t === 'none') return { kind: 'none' };
  if (t === 'all') return { kind: 'all' };
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t) && !Number.isNaN(Date.parse(t))) return { kind: 'since', since: new Date(t).toISOString() };
  throw permanent('CONFIG', `${where}: backfill "${t}" is not "none", "all" or an ISO date such as 2026-01-31`);
}

/** The list endpoint of a box, under api/v5/. */
export function boxListPath(box: ResolvedBox): string {
  if (box.kind === 'inbox') return 'inbox/packages';
  return `${box.kind === 'shared_inbox' ? 'shared_inboxes' : 'workgroups'}/${encodeURIComponent(box.id ?? '')}/packages`;
}

/** Only the mailbox endpoints know `changed_since_date` (faspex5-boxes.md §1.3). */
export function boxHasChangedSince(box: BoxSpec): boolean {
  return box.kind === 'inbox';
}
