/**
 * Faspex 5 API answers → our types, validated (the server is trusted for content, not for shape):
 *  - `GET packages/<id>` → title, sender, note, sizes, and which recipient to download as;
 *  - `POST packages/<id>/transfer_spec/download` → TransferSpec (faspex-protocol.md §7.2):
 *    `authentication` is dropped (a flag for Connect, as ascli does), `source_root` and `paths`
 *    are kept (the ascp builder passes source_root as --source-prefix64), the token is a secret.
 * Pure.
 */
import { z } from 'zod';
import { permanent } from '../errors.js';
import type { Cipher, TransferSpec } from '../fasp/transfer-spec.js';
import { registerSecret } from '../log/secrets.js';
import type { PackageLink } from './link.js';
import { pickRecipient, type RecipientChoice, type RecipientQuery } from './faspex5-recipient.js';
import type { ResolvedPackage } from './resolved-package.js';

const id = z.union([z.string().min(1), z.number().int()]).transform(String);
const text = z.string().optional().catch(undefined);

const recipientSchema = z.looseObject({
  id: id.optional().catch(undefined),
  name: text,
  email: text,
  recipient_type: text,
});

export const packageInfoSchema = z.looseObject({
  id: id.optional().catch(undefined),
  title: text,
  note: text,
  message: text,
  state: text,
  total_bytes: z.number().int().nonnegative().optional().catch(undefined),
  total_files: z.number().int().nonnegative().optional().catch(undefined),
  ear_enabled: z.boolean().optional().catch(undefined),
  sender: z.looseObject({ name: text, email: text, first_name: text, last_name: text }).optional().catch(undefined),
  recipients: z.array(recipientSchema).optional().catch(undefined),
  metadata: z.record(z.string(), z.unknown()).optional().catch(undefined),
});

export type Faspex5PackageInfo = z.infer<typeof packageInfoSchema>;

/** ascp's -c accepts these; Faspex may write them with or without the hyphen. */
const CIPHERS = new Set<Cipher>(['none', 'aes-128', 'aes-192', 'aes-256', 'aes-128-cfb', 'aes-192-cfb', 'aes-256-cfb', 'aes-128-gcm', 'aes-192-gcm', 'aes-256-gcm']);
const cipher = z.string().transform((c, ctx) => {
  const v = c.toLowerCase().replace(/^aes(\d)/, 'aes-$1') as Cipher;
  if (CIPHERS.has(v)) return v;
  ctx.addIssue({ code: 'custom', message: `unknown cipher "${c}"` });
  return z.NEVER;
});
const port = z.number().int().min(1).max(65535);
const rate = z.number().int().nonnegative();

export const transferSpecSchema = z.looseObject({
  direction: z.literal('receive'),
  remote_host: z.string().min(1),
  remote_user: z.string().min(1).optional(),
  ssh_port: port.optional(),
  fasp_port: port.optional(),
  token: z.string().min(1),
  cookie: z.string().optional(),
  sshfp: z.string().optional(),
  cipher: cipher.optional(),
  rate_policy: z.enum(['low', 'fair', 'high', 'fixed']).optional(),
  target_rate_kbps: rate.optional(),
  min_rate_kbps: rate.optional(),
  target_rate_cap_kbps: rate.optional(),
  lock_rate_policy: z.boolean().optional(),
  lock_min_rate: z.boolean().optional(),
  http_fallback: z.union([z.boolean(), z.literal('force')]).optional(),
  http_fallback_port: port.optional(),
  wss_enabled: z.boolean().optional(),
  wss_port: port.optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
  source_root: z.string().min(1).optional(),
  paths: z.array(z.strictObject({ source: z.string().min(1), destination: z.string().min(1).optional() })).min(1),
});

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.map(String).join('.') || 'the answer'}: ${issue.message}`;
}

/** The transfer_spec/download answer as a TransferSpec, or BAD_RESPONSE naming the first problem. */
export function toTransferSpec(json: unknown, host: string): TransferSpec {
  const parsed = transferSpecSchema.safeParse(json);
  if (!parsed.success) {
    throw permanent('BAD_RESPONSE', `Faspex server ${host} sent a download transfer spec this client cannot use (${firstIssue(parsed.error)})`, { host });
  }
  const s = parsed.data;
  registerSecret(s.token);
  registerSecret(s.cookie);
  const spec: TransferSpec = {
    direction: 'receive',
    remote_host: s.remote_host,
    paths: s.paths.map((p) => (p.destination === undefined ? { source: p.source } : { source: p.source, destination: p.destination })),
    token: s.token,
  };
  const copy = ['remote_user', 'ssh_port', 'fasp_port', 'cookie', 'sshfp', 'cipher', 'rate_policy', 'target_rate_kbps', 'min_rate_kbps',
    'target_rate_cap_kbps', 'lock_rate_policy', 'lock_min_rate', 'http_fallback', 'http_fallback_port', 'wss_enabled', 'wss_port', 'tags', 'source_root'] as const;
  for (const key of copy) {
    if (s[key] !== undefined) (spec as unknown as Record<string, unknown>)[key] = s[key];
  }
  return spec;
}

export function readPackageInfo(json: unknown, host: string): Faspex5PackageInfo {
  const parsed = packageInfoSchema.safeParse(json);
  if (!parsed.success) throw permanent('BAD_RESPONSE', `Faspex server ${host} sent a package description this client cannot read (${firstIssue(parsed.error)})`, { host });
  return parsed.data;
}

export type { RecipientQuery } from './faspex5-recipient.js';

/**
 * Which recipient the download is for (faspex5-recipient.ts): the box's entry when the package
 * was found in a box, else the user's own, else a box the user reads, else the first recipient.
 */
export function recipientQuery(info: Faspex5PackageInfo, asUser?: string, choice: Omit<RecipientChoice, 'user'> = {}): RecipientQuery {
  return pickRecipient(info.recipients ?? [], { user: asUser, ...choice });
}

function senderName(info: Faspex5PackageInfo): string | undefined {
  const s = info.sender;
  if (!s) return undefined;
  const full = [s.first_name, s.last_name].filter(Boolean).join(' ');
  return s.email ?? s.name ?? (full || undefined);
}

export function toResolvedPackage(link: PackageLink, info: Faspex5PackageInfo, spec: TransferSpec): ResolvedPackage {
  const resolved: ResolvedPackage = { link, packageId: info.id ?? link.packageId, transferSpec: spec };
  if (info.title) resolved.title = info.title;
  const sender = senderName(info);
  if (sender) resolved.sender = sender;
  const note = info.note ?? info.message;
  if (note) resolved.note = note;
  const recipients = (info.recipients ?? []).map((r) => r.email ?? r.name ?? '').filter((n) => n !== '');
  if (recipients.length > 0) resolved.recipients = recipients;
  if (info.total_bytes !== undefined) resolved.totalBytes = info.total_bytes;
  if (info.ear_enabled !== undefined) resolved.encrypted = info.ear_enabled;
  const metadata = Object.entries(info.metadata ?? {}).filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean');
  if (metadata.length > 0) resolved.metadata = Object.fromEntries(metadata.map(([k, v]) => [k, String(v)]));
  return resolved;
}

/** One page of `POST packages/<id>/files/received` (GetPackageFiles): size is a string there. */
const listingSchema = z.looseObject({
  items: z.array(z.looseObject({
    path: z.string().min(1),
    type: z.string().optional().catch(undefined),
    size: z.union([z.string(), z.number()]).optional().catch(undefined),
  })),
  item_count: z.number().int().nonnegative().optional().catch(undefined),
  total_count: z.number().int().nonnegative().optional().catch(undefined),
});

export interface ListingPage {
  files: Array<{ path: string; size?: number }>;
  directories: string[];
  /** items on this page (files and folders), for the next offset */
  count: number;
}

export function readListingPage(json: unknown, host: string): ListingPage {
  const parsed = listingSchema.safeParse(json);
  if (!parsed.success) throw permanent('BAD_RESPONSE', `Faspex server ${host} sent a package file list this client cannot read (${firstIssue(parsed.error)})`, { host });
  const page: ListingPage = { files: [], directories: [], count: parsed.data.item_count ?? parsed.data.items.length };
  for (const item of parsed.data.items) {
    if (item.type === 'directory') page.directories.push(item.path);
    else if (item.type === undefined || item.type === 'file') {
      const size = typeof item.size === 'number' ? item.size : item.size !== undefined && /^\d+$/.test(item.size) ? Number(item.size) : undefined;
      page.files.push(size !== undefined && Number.isSafeInteger(size) ? { path: item.path, size } : { path: item.path });
    }
  }
  return page;
}
