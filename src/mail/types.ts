/**
 * The types the mail room's modules share: what the listener is given (deps, tuning), what it
 * reports (events, status), and what a chunk of mail carries on its way through
 * listener → process-mail → read-chunk → (mime-plan, fetch-message, decide). Types only, so that
 * every module can name them without importing the one above it: the way stays one-directional.
 */
import type { ImapFlow, ImapFlowOptions, MessageStructureObject } from 'imapflow';
import type { Cluster, Redis } from 'ioredis';
import type { ImapConfig } from '../config/config.js';
import type { AllowedHost } from '../faspex/allowlist.js';
import type { PackageLink } from '../faspex/link.js';
import type { Fence } from '../lease/lease-keeper.js';
import type { Logger } from '../log/logger.js';
import type { EnqueueResult } from '../queue/producer.js';
import type { DownloadJobData } from '../queue/queues.js';
import type { ImapAuthSource } from './imap-auth/token-source.js';
import type { MailboxState } from './mailbox-state.js';
import type { SenderPolicy } from './sender-policy.js';

/**
 * What the service did with a mail; each has its keyword (handled-marks.ts). `damaged`: it holds
 * a package link, but no whole copy of it (cut by a line wrap or by quoting), so nothing was queued.
 */
export type MailOutcomeKind = 'queued' | 'no-link' | 'damaged' | 'failed' | 'refused';

export type EnqueueItem = { link: PackageLink; source: DownloadJobData['source'] };

export interface MailReport {
  /** how the source names the mail: an IMAP UID ("17"), a Graph message id */
  id: string;
  /** IMAP only */
  uid?: number | undefined;
  uidValidity?: string | undefined;
  messageId?: string | undefined;
  outcome: MailOutcomeKind;
  /** package links found (after dedupe and the allowlist) */
  links: number;
  /** jobs that were new in the queue (the rest were queued before) */
  jobsAdded: number;
  warnings: string[];
  reason?: string | undefined;
  /** bytes read from the server for this mail: header plus the parts extraction needed */
  bytesFetched: number;
  /** when the server received it (INTERNALDATE), for the mail → queued latency */
  receivedAt?: Date | undefined;
}

export interface MailListenerEvents {
  /** `idle`: the server pushes new mail (IMAP IDLE); false means imapflow polls */
  connected: [{ mailbox: string; uidValidity: string; lastUid: number; idle: boolean }];
  disconnected: [{ reason: string; retryInMs: number }];
  /** every mail read, whatever came of it (for metrics: mails read, links found) */
  mail: [MailReport];
  /** a mail that could not be read or was refused; also reported as `mail` */
  'mail-failed': [MailReport];
  /** mails in the folder not yet handled, at the start of a pass and after each chunk */
  backlog: [{ count: number }];
  /** a pass over new mail finished; `lastUid` is what is now handled */
  synced: [{ lastUid: number }];
}

export interface MailListenerStatus {
  connected: boolean;
  mailbox: string;
  uidValidity: string | undefined;
  lastUid: number | undefined;
  lastError: string | undefined;
  lastSyncAt: string | undefined;
}

export interface MailListenerTuning {
  autoIdleDelayMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  chunkSize: number;
  maxPartBytes: number;
  /**
   * A mail of at most this size is fetched whole (BODY.PEEK[]) and read by the MIME reader; a
   * bigger one has its BODYSTRUCTURE fetched first, so that only its text parts come over. A
   * notification is a few KB: one FETCH of whole mails costs half the CPU of BODYSTRUCTURE and
   * header, then parts (docs/benchmarks.md, backlog).
   */
  wholeMailBytes: number;
  /** the most one FETCH of mail or mail parts may bring (from RFC822.SIZE or BODYSTRUCTURE); bounds memory */
  batchBytes: number;
  /** reads of one mail that may die with the connection before it is recorded as unreadable */
  maxAttempts: number;
  stopTimeoutMs: number;
  /**
   * IDLE is ended and issued again after this long (imapflow's maxIdleTime). RFC 2177 asks for
   * re-issue within 29 minutes; Exchange Online drops an IDLE after about 30 and Gmail after
   * about 29, and NAT boxes often forget a quiet TCP flow after 5 to 15. Five minutes stays under
   * all of them. On a server without IDLE, imapflow polls with NOOP at this interval instead
   * (capped at its own 2 minutes), so it is also how late new mail may be seen there.
   */
  idleRenewMs: number;
}

export interface MailListenerDeps {
  imap: ImapConfig;
  /** for the listener's own state (progress, skipped mail) */
  redis: Redis | Cluster;
  /** key prefix, normally config.redis.prefix */
  prefix: string;
  /** resolves only once Redis acknowledged the jobs */
  enqueue: (items: EnqueueItem[]) => Promise<EnqueueResult[]>;
  allowlist: AllowedHost[];
  senderPolicy?: SenderPolicy | undefined;
  /** more package links than this in one mail: the mail is refused (default 50) */
  maxLinks?: number | undefined;
  /** Faspex 5 servers whose mails ask for a sweep */
  faspex5?: Faspex5MailTrigger | undefined;
  logger: Logger;
  events?: { [K in keyof MailListenerEvents]?: (...args: MailListenerEvents[K]) => void };
  tuning?: Partial<MailListenerTuning>;
  /**
   * Under a standby lease (src/mail/inbox-runner.ts): progress is written only while it is held
   * (checked by Redis), and marks only after a local check; `enqueue` is fenced by the caller.
   */
  fence?: Fence | undefined;
  /** credentials per (re)connect (OAuth2 tokens); default: imap.user + imap.password */
  auth?: ImapAuthSource | undefined;
  /** tests: wrap or observe the client */
  createClient?: (options: ImapFlowOptions) => ImapFlow;
}

/** What the listener hands down with each chunk. */
export interface ProcessContext {
  client: ImapFlow;
  deps: MailListenerDeps;
  state: MailboxState;
  tuning: MailListenerTuning;
  log: Logger;
  ensuredFolders: Set<string>;
  /** true once the listener is stopping: a chunk not yet queued is left for the next start */
  stopping: () => boolean;
  emit: (name: 'mail' | 'mail-failed', report: MailReport) => void;
}

/** Step 1 of reading a chunk: what every mail costs little to tell (fetch-message.ts listMails). */
export interface ListedMail {
  uid: number;
  size: number | undefined;
  /** INTERNALDATE: when the server received it */
  internalDate?: Date | undefined;
}

/** A mail too big to fetch whole: its structure and header, to plan which parts to fetch (fetchMeta). */
export interface MessageMeta extends ListedMail {
  structure: MessageStructureObject | undefined;
  header: Buffer;
}

/** What one fetched mail means (decide.ts). */
export interface MailDecision {
  /** `failed` is the listener's: the mail could not be fetched or parsed */
  kind: 'links' | 'no-link' | 'damaged' | 'refused' | 'failed';
  links: PackageLink[];
  warnings: string[];
  reason?: string;
  messageId?: string;
  subject?: string;
  from?: string;
  /** hosts of `Faspex5MailTrigger.hosts` that the mail names anywhere (any link form, any text) */
  mentions?: string[];
}

/**
 * Faspex 5 servers with an API client (src/sweep/): a mail from one of them asks for a sweep of
 * its boxes, whatever its link form. `request` writes the ask to Redis; it resolves before the
 * chunk counts as handled, so a crash loses no ask.
 */
export interface Faspex5MailTrigger {
  /** `host[:port]` of every such server, for decide's `mentions` */
  hosts: readonly string[];
  request(decisions: readonly MailDecision[]): Promise<void>;
}

/** A mail read and decided (read-chunk.ts). */
export interface ReadMail {
  meta: ListedMail;
  decision: MailDecision;
  bytesFetched: number;
}
