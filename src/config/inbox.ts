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
