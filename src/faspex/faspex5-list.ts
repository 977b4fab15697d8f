/**
 * Faspex 5 list answers, validated, and the paging rule (faspex5-boxes.md §1.4-§2). Pure.
 *  - `{total_count, offset, limit, packages: [...]}`: a page of a box's packages;
 *  - `{shared_inboxes: [...]}` / `{workgroups: [...]}`: the boxes a `q` search found, of which
 *    only exact name matches count (`q` is a partial, case-insensitive match);
 *  - paging: the next offset is the count held so far, until `total_count` is reached or a page
 *    comes back empty (a server that miscounts must not make the client loop).
 */
import { z } from 'zod';
import { permanent } from '../errors.js';
import type { BoxSpec, ResolvedBox } from './faspex5-box-spec.js';
import { boxLabel } from './faspex5-box-spec.js';

const id = z.union([z.string().min(1), z.number().int()]).transform(String);
const text = z.string().optional().catch(undefined);

const listedSchema = z.looseObject({
  id,
  title: text,
  status: text,
  state: text,
  created_time: text,
  last_modified: text,
  total_bytes: z.number().nonnegative().optional().catch(undefined),
  sender: z.looseObject({ name: text, email: text }).optional().catch(undefined),
  recipients: z.array(z.looseObject({ id: id.optional().catch(undefined), name: text, email: text, recipient_type: text })).optional().catch(undefined),
});
export type ListedPackage = z.infer<typeof listedSchema>;

const pageSchema = z.looseObject({
  total_count: z.number().int().nonnegative().optional().catch(undefined),
  packages: z.array(z.unknown()),
});

/** Most packages held from one box listing: a hostile server cannot make the client hold more. */
export const LIST_MAX_PACKAGES = 50_000;
/** Asked per page (ascli asks 1000; a server may give fewer, which paging copes with). */
export const PAGE_LIMIT = 500;

export interface ListPage {
  packages: ListedPackage[];
  total: number | undefined;
  /** entries left out because they had no id */
  unreadable: number;
}

export function readListPage(json: unknown, host: string): ListPage {
  const parsed = pageSchema.safeParse(json);
  if (!parsed.success) throw permanent('BAD_RESPONSE', `Faspex server ${host} answered a package list without a "packages" array`, { host });
  const packages: ListedPackage[] = [];
  let unreadable = 0;
  for (const p of parsed.data.packages) {
    const one = listedSchema.safeParse(p);
    if (one.success) packages.push(one.data);
    else unreadable++;
  }
  return { packages, total: parsed.data.total_count, unreadable };
}

/** The next offset to ask for, or undefined when the listing is complete. */
export function nextOffset(held: number, pageLength: number, total: number | undefined): number | undefined {
  if (pageLength === 0) return undefined;
  if (total !== undefined && held >= total) return undefined;
  if (held >= LIST_MAX_PACKAGES) return undefined;
  return held;
}

const boxesSchema = z.array(z.looseObject({ id, name: z.string() }));

/** The one box named exactly `spec.name` among a `q` search's answer; a clear error otherwise. */
export function pickBox(json: unknown, spec: BoxSpec, host: string, user: string): ResolvedBox {
  const key = spec.kind === 'shared_inbox' ? 'shared_inboxes' : 'workgroups';
  const list = json && typeof json === 'object' ? (json as Record<string, unknown>)[key] : undefined;
  const parsed = boxesSchema.safeParse(list);
  if (!parsed.success) throw permanent('BAD_RESPONSE', `Faspex server ${host} answered the ${key} search without a "${key}" list`, { host });
  const exact = parsed.data.filter((b) => b.name === spec.name);
  const label = boxLabel(spec);
  if (exact.length === 0) {
    const near = parsed.data.map((b) => `"${b.name}"`).slice(0, 5).join(', ');
    throw permanent('BOX_UNKNOWN', `box ${label} is not among the ${key.replace('_', ' ')} that user ${user} belongs to on ${host}${near ? ` (similar names: ${near})` : ''}: check the name (exact, case-sensitive) in FASPEX5_CLIENTS "boxes", or ask the Faspex admin to add the user`, { host });
  }
  if (exact.length > 1) throw permanent('BOX_UNKNOWN', `box ${label} names ${exact.length} ${key.replace('_', ' ')} on ${host}; Faspex should not allow that, ask its admin`, { host });
  return { ...spec, id: exact[0]!.id };
}

/** Every box of the user of one kind (a search without `q`), for choosing a recipient entry. */
export function readBoxes(json: unknown, kind: 'shared_inbox' | 'workgroup'): ResolvedBox[] {
  const key = kind === 'shared_inbox' ? 'shared_inboxes' : 'workgroups';
  const list = json && typeof json === 'object' ? (json as Record<string, unknown>)[key] : undefined;
  const parsed = boxesSchema.safeParse(list);
  return parsed.success ? parsed.data.map((b) => ({ kind, name: b.name, id: b.id })) : [];
}
