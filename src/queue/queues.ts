/**
 * Queue names, job payload schemas and default job options: defined once, imported by every
 * producer (listener, `enqueue`) and consumer (workers, dashboard, `status`), so a payload change
 * is a compile error on both sides.
 */
import { z } from 'zod';
import type { LinkKind, PackageLink } from '../faspex/link.js';

export const QUEUE = {
  /** one job per package: resolve, token, ascp, manifest */
  downloads: 'downloads',
  /** one job per finished package when COMPLETION_WEBHOOK_URL is set */
  notifications: 'notifications',
  /** one job per complete package when ON_COMPLETE_COMMAND is set: runs it, retried on its own */
  handoffs: 'handoffs',
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

export const JOB = { download: 'download', notify: 'notify', handoff: 'handoff' } as const;

const linkKind = z.enum(['faspex4-external', 'faspex4-received', 'faspex5-public', 'faspex5-inbox', 'fasp-url']) satisfies z.ZodType<LinkKind>;

export const downloadJobSchema = z.object({
  /** the canonical link; it holds the passcode, so it is masked wherever it is shown */
  link: z.string().min(1),
  kind: linkKind,
  server: z.string().min(1),
  packageId: z.string().min(1),
  /** where it came from, for people: a mail (mailbox, uid, message-id, subject) or the CLI */
  source: z.object({
    /** `sweep`: a Faspex 5 box sweep found it (src/sweep/); no mail announced it before */
    type: z.enum(['mail', 'cli', 'demo', 'sweep']),
    /** a sweep's box, as FASPEX5_CLIENTS names it (`inbox`, `workgroup:Dailies`) */
    box: z.string().optional(),
    /** a sweep asked for by a mail (`mail`) or by the timer (`timer`) */
    trigger: z.enum(['mail', 'timer']).optional(),
    /** the inbox id (MAILBOXES_FILE, or `default`) of the mail that announced it */
    inbox: z.string().optional(),
    mailbox: z.string().optional(),
    uid: z.number().int().optional(),
    uidValidity: z.string().optional(),
    messageId: z.string().optional(),
    subject: z.string().optional(),
    from: z.string().optional(),
  }),
  queuedAt: z.string(),
  /**
   * the inbox's download folder, relative to DOWNLOAD_DIR; the worker checks it again before
   * writing (src/ascp/download-subfolder.ts), as anyone who can write Redis can write this
   */
  folder: z.string().optional(),
  /** Faspex 5: the box a sweep found the package in, so it is downloaded as that box's recipient */
  box: z.object({ kind: z.enum(['inbox', 'shared_inbox', 'workgroup']), id: z.string().optional() }).optional(),
  /** the inbox's own include / exclude globs (MAILBOXES_FILE), replacing FILE_INCLUDE / FILE_EXCLUDE */
  filter: z.object({ include: z.array(z.string()).max(100).optional(), exclude: z.array(z.string()).max(100).optional() }).optional(),
});
export type DownloadJobData = z.infer<typeof downloadJobSchema>;

export const notifyJobSchema = z.object({
  downloadJobId: z.string(),
  outcome: z.enum(['completed', 'failed']),
  /** the manifest (completed) or the failure (failed); never secrets */
  body: z.record(z.string(), z.unknown()),
});
export type NotifyJobData = z.infer<typeof notifyJobSchema>;

export const handoffJobSchema = z.object({
  downloadJobId: z.string().min(1),
  /** the package folder (absolute; inside DOWNLOAD_DIR, checked again before the command runs) */
  folder: z.string().min(1),
  title: z.string().optional(),
  sender: z.string().optional(),
  /** the inbox id of the mail that announced it, when it came by mail */
  inbox: z.string().optional(),
});
export type HandoffJobData = z.infer<typeof handoffJobSchema>;

/**
 * Where a complete package's hand-off stands, kept in its download job's progress (`handoff`),
 * so the packages page and `status` show it with the package and without another read.
 */
export interface HandoffState {
  state: 'pending' | 'running' | 'failed' | 'done';
  /** the last failure, masked (state 'failed') */
  reason?: string;
  /** false while it will be tried again */
  final?: boolean;
  attempts?: number;
  /** ms since epoch */
  at: number;
}

/** One hand-off per download job: a completion seen twice (a crash, a rerun) adds nothing. */
export function handoffJobId(downloadJobId: string): string {
  return `${downloadJobId}-handoff`;
}

/**
 * Deterministic per package (server + kind + id): the same notification forwarded twice,
 * quoted in a reply, or read again after a crash adds nothing. BullMQ ids must not contain
 * `:` nor be all digits.
 */
export function downloadJobId(link: Pick<PackageLink, 'kind' | 'server' | 'packageId'>): string {
  return `${link.kind}-${link.server}-${link.packageId}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function downloadJobData(link: PackageLink, source: DownloadJobData['source'], now = new Date(), folder?: string, filter?: DownloadJobData['filter']): DownloadJobData {
  return downloadJobSchema.parse({
    link: link.url,
    kind: link.kind,
    server: link.server,
    packageId: link.packageId,
    source,
    queuedAt: now.toISOString(),
    ...(folder === undefined ? {} : { folder }),
    ...(link.box === undefined ? {} : { box: link.box.id === undefined ? { kind: link.box.kind } : { kind: link.box.kind, id: link.box.id } }),
    ...(filter === undefined ? {} : { filter }),
  });
}
