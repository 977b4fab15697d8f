/**
 * One watched mailbox, as the listener needs it: from MAILBOXES_FILE (several) or from the
 * IMAP_* variables (one, with the id `default`). The id keys everything per inbox: its lease, its
 * status for the dashboard, the `inbox` of its jobs.
 */
import type { AllowedHost } from '../faspex/allowlist.js';

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
}

export interface InboxConfig {
  id: string;
  imap: ImapConfig;
  /** links outside this list are refused at extraction; within FASPEX_ALLOWED_HOSTS */
  allowedHosts: AllowedHost[];
  senderPolicy: { allowedForwarders: string[]; authservId: string } | undefined;
  maxLinks: number;
  /** relative to DOWNLOAD_DIR (checked); undefined: DOWNLOAD_DIR itself */
  downloadFolder: string | undefined;
}
