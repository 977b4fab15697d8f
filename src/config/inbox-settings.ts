/**
 * The inboxes a configuration describes, from one of three forms that exclude each other: the
 * IMAP_* variables (one IMAP inbox), MAIL_SOURCE=graph with GRAPH_* (one Microsoft 365 mailbox),
 * or MAILBOXES_FILE (several, each its own source and policy); and the mail policy every inbox
 * starts from (FASPEX_ALLOWED_HOSTS, MAIL_ALLOWED_FORWARDERS, MAIL_MAX_LINKS). Part of loadConfig:
 * problems go to the reader's list, every secret to the registry.
 */
import type { AllowedHost } from '../faspex/allowlist.js';
import { registerSecret } from '../log/secrets.js';
import { parseImapAuth, secretsOf } from '../mail/imap-auth/auth-config.js';
import { parseGraphInbox } from './graph-inbox.js';
import { DEFAULT_INBOX_ID, type GraphConfig, type ImapConfig, type InboxConfig } from './inbox.js';
import type * as MailboxesFile from './mailboxes-file.js';
import { readSecretFileFrom } from './secret-files.js';
import { mapOptional, type VariableReader } from './variable-reader.js';

/**
 * MAILBOXES_FILE's reader. It brings zod and every mailbox field's parser, which only the roles that
 * read mail need, so it is handed in (loadServiceConfig loads it) rather than imported: the
 * one-shot commands (`fasp-url`, `--help`) start without it.
 */
export type MailboxesReader = Pick<typeof MailboxesFile, 'readMailboxesFile' | 'parseMailboxesFile' | 'MailboxesFileError'>;

export interface MailPolicy {
  allowedForwarders: string[] | undefined;
  authservId: string | undefined;
  maxLinks: number;
}

export interface InboxSettings {
  /** the IMAP_* inbox, also for a role that reads no mail (status names it) */
  imap: ImapConfig | undefined;
  inboxes: InboxConfig[];
  allowedHosts: AllowedHost[];
  mail: MailPolicy;
}

export function readInboxSettings(r: VariableReader, o: { role: string; readsInboxes: boolean; mailboxes: MailboxesReader | undefined }): InboxSettings {
  const { read, problems, env, abs } = r;
  const mailboxesFile = read('MAILBOXES_FILE');
  const viaGraph = read('MAIL_SOURCE') === 'graph';
  const imap = imapInbox(r);
  let graph: GraphConfig | undefined;
  if (viaGraph && imap !== undefined) problems.push('MAIL_SOURCE=graph reads the mailbox through Microsoft Graph: unset IMAP_HOST (and the other IMAP_* login variables)');
  if (viaGraph && mailboxesFile !== undefined) problems.push('MAIL_SOURCE=graph and MAILBOXES_FILE both describe inboxes: write "source": "graph" in the file\'s entry and unset MAIL_SOURCE and GRAPH_*');
  if (viaGraph && mailboxesFile === undefined && o.readsInboxes) {
    const parsedGraph = parseGraphInbox({
      mailbox: read('GRAPH_MAILBOX'), folder: read('GRAPH_FOLDER')!, tenant: read('GRAPH_TENANT'), clientId: read('GRAPH_CLIENT_ID'), clientSecret: read('GRAPH_CLIENT_SECRET'),
      certificateFile: mapOptional(read('GRAPH_CERTIFICATE_FILE'), abs), keyFile: mapOptional(read('GRAPH_KEY_FILE'), abs), pollSeconds: read('GRAPH_POLL_SECONDS')!,
      baseUrl: read('GRAPH_BASE_URL'), tokenUrl: read('GRAPH_TOKEN_URL'), caFile: mapOptional(read('GRAPH_CA_FILE'), abs), markKeyword: read('IMAP_MARK_KEYWORD')!, moveTo: read('IMAP_MOVE_TO'),
    });
    if (parsedGraph.ok) graph = parsedGraph.graph;
    else problems.push(...parsedGraph.problems);
  }
  if (imap !== undefined && mailboxesFile !== undefined) {
    problems.push('IMAP_HOST and MAILBOXES_FILE both describe inboxes: describe every inbox in MAILBOXES_FILE and unset the IMAP_* variables');
  }

  const forwarders = read('MAIL_ALLOWED_FORWARDERS');
  const authservId = read('MAIL_AUTHSERV_ID');
  if (forwarders !== undefined && authservId === undefined) {
    problems.push('MAIL_AUTHSERV_ID is required with MAIL_ALLOWED_FORWARDERS: without it a forged From cannot be told apart');
  }
  const allowedHosts = read('FASPEX_ALLOWED_HOSTS') ?? [];
  const maxLinks = read('MAIL_MAX_LINKS')!;
  const senderPolicy = forwarders && authservId ? { allowedForwarders: forwarders, authservId } : undefined;
  let inboxes: InboxConfig[] = [];
  if (mailboxesFile !== undefined && o.readsInboxes) {
    if (o.mailboxes === undefined) throw new Error(`loadConfig('${o.role}') reads MAILBOXES_FILE: call loadServiceConfig, which loads its reader`);
    try {
      const file = abs(mailboxesFile);
      inboxes = o.mailboxes.parseMailboxesFile(file, o.mailboxes.readMailboxesFile(file), { allowedHosts, allowedForwarders: forwarders, authservId, maxLinks }, { readFile: readSecretFileFrom(r.cwd), env });
      for (const inbox of inboxes) for (const secret of inboxSecrets(inbox)) registerSecret(secret);
    } catch (e) {
      if (!(e instanceof o.mailboxes.MailboxesFileError)) throw e;
      problems.push(...e.problems);
    }
  } else if (graph) {
    for (const secret of secretsOf(graph.auth)) registerSecret(secret);
    inboxes = [{ id: DEFAULT_INBOX_ID, source: 'graph', graph, allowedHosts, senderPolicy, maxLinks, downloadFolder: undefined }];
  } else if (imap) {
    inboxes = [{ id: DEFAULT_INBOX_ID, imap, allowedHosts, senderPolicy, maxLinks, downloadFolder: undefined }];
  }
  return { imap, inboxes, allowedHosts, mail: { allowedForwarders: forwarders, authservId, maxLinks } };
}

/** The IMAP_* inbox and its login, when IMAP_HOST is set. */
function imapInbox({ read, problems, env, abs }: VariableReader): ImapConfig | undefined {
  const host = read('IMAP_HOST');
  if (host === undefined) return undefined;
  const imap: ImapConfig = {
    host,
    port: read('IMAP_PORT')!,
    secure: read('IMAP_SECURE')!,
    user: read('IMAP_USER') ?? '',
    password: read('IMAP_PASSWORD') ?? '',
    mailbox: read('IMAP_MAILBOX')!,
    markKeyword: read('IMAP_MARK_KEYWORD')!,
    moveTo: read('IMAP_MOVE_TO'),
    resyncSeconds: read('IMAP_RESYNC_SECONDS')!,
    startAt: read('IMAP_START_AT')!,
    tls: { caFile: mapOptional(read('IMAP_CA_FILE'), abs), insecure: read('IMAP_INSECURE_TLS')! },
  };
  if (imap.user === '') problems.push('IMAP_USER is required when IMAP_HOST is set');
  const parsed = parseImapAuth(
    {
      // the two choices are checked by the parser itself, which names what each one needs
      auth: env.IMAP_AUTH, user: imap.user, password: imap.password, provider: env.IMAP_OAUTH_PROVIDER,
      tenant: read('IMAP_OAUTH_TENANT'), clientId: read('IMAP_OAUTH_CLIENT_ID'), clientSecret: read('IMAP_OAUTH_CLIENT_SECRET'),
      certificateFile: mapOptional(read('IMAP_OAUTH_CERTIFICATE_FILE'), abs), keyFile: mapOptional(read('IMAP_OAUTH_KEY_FILE'), abs),
      tokenUrl: read('IMAP_OAUTH_TOKEN_URL'), scope: read('IMAP_OAUTH_SCOPE'), refreshToken: read('IMAP_OAUTH_REFRESH_TOKEN'),
    },
    // the role check already names a missing IMAP_PASSWORD (or the role needs none)
    { requirePassword: false },
  );
  // a missing IMAP_USER is named once, above
  if (parsed.ok) imap.auth = parsed.auth;
  else problems.push(...parsed.problems.filter((p) => !p.startsWith('IMAP_USER ')));
  return imap;
}

/** Every secret an inbox's login holds, for the secrets registry. */
function inboxSecrets(inbox: InboxConfig): string[] {
  if (inbox.source === 'graph') return secretsOf(inbox.graph.auth);
  return inbox.imap.auth ? secretsOf(inbox.imap.auth) : [inbox.imap.password];
}
