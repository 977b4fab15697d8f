/**
 * One watched mailbox, as the listener needs it: from MAILBOXES_FILE (several) or from the
 * IMAP_* variables (one, with the id `default`). The id keys everything per inbox: its lease, its
 * status for the dashboard, the `inbox` of its jobs.
 */
import type { AllowedHost } from '../faspex/allowlist.js';
import type { ImapAuth } from '../mail/imap-auth/auth-config.js';

/** The id of the inbox the IMAP_* variables describe. */
export const DEFAULT_INBOX_ID = 'default';

export interface ImapConfig {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password: string;
  mailbox: string;
  markKeyword: boolean;
  moveTo: string | undefined;
  resyncSeconds: number;
  startAt: 'oldest' | 'newest';
  /** how to log in (IMAP_AUTH…, see src/mail/imap-auth/auth-config.ts); absent: user + password above */
  auth?: ImapAuth;
  /** IMAP_CA_FILE (absolute) and IMAP_INSECURE_TLS; absent: system roots, verified */
  tls?: ImapTls;
}

export interface ImapTls {
  caFile: string | undefined;
  insecure: boolean;
}

/** A Microsoft 365 mailbox read through Microsoft Graph (MAIL_SOURCE=graph; src/mail/graph/). */
export interface GraphConfig {
  /** the mailbox's address: /users/{mailbox} */
  mailbox: string;
  /** display name of the watched folder */
  folder: string;
  /** oauth2 / microsoft with scope https://graph.microsoft.com/.default: the IMAP OAuth code's own type */
  auth: ImapAuth;
  pollSeconds: number;
  /** https://graph.microsoft.com, without a trailing slash */
  baseUrl: string;
  /** absolute; trusted for Graph and the token endpoint */
  caFile: string | undefined;
  /** the category per outcome (src/mail/graph/graph-marks.ts) */
  markKeyword: boolean;
  /** a folder's display name */
  moveTo: string | undefined;
}

interface InboxCommon {
  id: string;
  /** links outside this list are refused at extraction; within FASPEX_ALLOWED_HOSTS */
  allowedHosts: AllowedHost[];
  senderPolicy: { allowedForwarders: string[]; authservId: string } | undefined;
  maxLinks: number;
  /** relative to DOWNLOAD_DIR (checked); undefined: DOWNLOAD_DIR itself */
  downloadFolder: string | undefined;
  /** MAILBOXES_FILE include / exclude: replace FILE_INCLUDE / FILE_EXCLUDE for this inbox's packages */
  filter?: { include?: string[]; exclude?: string[] };
}

export type ImapInboxConfig = InboxCommon & { source?: 'imap' | undefined; imap: ImapConfig; graph?: undefined };
export type GraphInboxConfig = InboxCommon & { source: 'graph'; graph: GraphConfig; imap?: undefined };
export type InboxConfig = ImapInboxConfig | GraphInboxConfig;

/** user@host/folder or graph:mailbox/folder, for people (status labels, logs). */
export function inboxLabel(inbox: InboxConfig): string {
  return inbox.source === 'graph' ? `graph:${inbox.graph.mailbox}/${inbox.graph.folder}` : `${inbox.imap.user}@${inbox.imap.host}/${inbox.imap.mailbox}`;
}
