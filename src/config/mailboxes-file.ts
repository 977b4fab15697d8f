/**
 * MAILBOXES_FILE: several inboxes in one JSON file, validated as strictly as the environment.
 * Each field reuses the parser of the variable it stands for (variables.ts), so a port or an
 * allowlist means the same thing in both places; unknown keys are refused (a typo must not
 * silently fall back to a default); every problem names the file, the mailbox and the field.
 *
 * Secrets never sit in the file itself (it ends up in repositories and backups): a password is
 * `passwordFile` (a path, relative to the file) or `passwordEnv` (the name of a variable), and so
 * are an OAuth2 client secret and refresh token (`clientSecretFile`/`Env`, `refreshTokenFile`/`Env`).
 * Their values are never echoed in a message. `auth.method: oauth2` is checked by the one parser
 * of mailbox logins (src/mail/imap-auth/auth-config.ts), with this file's key names in its
 * messages. The entries' shape is mailbox-entry-schema.ts's; this module reads them together.
 * Pure apart from `readMailboxesFile` and the two secret readers passed in.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import type { AllowedHost } from '../faspex/allowlist.js';
import { coveredBy } from './allowlist-cover.js';
import { checkDownloadFolder } from '../ascp/download-subfolder.js';
import { parseImapAuth, type ImapAuth, type ImapAuthField } from '../mail/imap-auth/auth-config.js';
import { parseGraphInbox, type GraphField } from './graph-inbox.js';
import type { ImapConfig, InboxConfig } from './inbox.js';
import { fileSchema, graphMailboxSchema, INBOX_ID, mailboxSchema, sourceOf, type GraphMailboxEntry, type MailboxEntry } from './mailbox-entry-schema.js';

/** What the environment says for the fields a mailbox may leave out. */
export interface MailboxDefaults {
  allowedHosts: AllowedHost[];
  allowedForwarders: string[] | undefined;
  authservId: string | undefined;
  maxLinks: number;
}

export interface SecretSources {
  readFile(path: string): string;
  env: Readonly<Record<string, string | undefined>>;
}

export class MailboxesFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'MailboxesFileError';
  }
}

/** The file's text; `file` is absolute. Throws MailboxesFileError naming why it cannot be read. */
export function readMailboxesFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new MailboxesFileError([`MAILBOXES_FILE ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
}

/**
 * The inboxes a file describes. `file` is the absolute path (for messages and relative paths);
 * throws MailboxesFileError listing every problem, each starting with `MAILBOXES_FILE <file>`.
 */
export function parseMailboxesFile(file: string, text: string, defaults: MailboxDefaults, secrets: SecretSources): InboxConfig[] {
  const where = `MAILBOXES_FILE ${file}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new MailboxesFileError([`${where}: not valid JSON (${jsonProblem((e as Error).message, text)})`]);
  }
  const top = fileSchema.safeParse(json);
  if (!top.success) throw new MailboxesFileError(top.error.issues.map((i) => `${where}: ${describeIssue(i)}`));

  const problems: string[] = [];
  const inboxes: InboxConfig[] = [];
  top.data.mailboxes.forEach((raw, index) => {
    const name = mailboxName(raw, index);
    const add = (message: string) => problems.push(`${where}: ${name}: ${message}`);
    const source = sourceOf(raw);
    if (source === 'graph') {
      const parsed = graphMailboxSchema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) add(describeIssue(issue));
        return;
      }
      const inbox = toGraphInbox(parsed.data, dirname(file), defaults, secrets, add);
      if (inbox) inboxes.push(inbox);
      return;
    }
    if (source !== undefined && source !== 'imap') {
      add(`source: expected "imap" or "graph", got ${JSON.stringify(source)}`);
      return;
    }
    const { source: _imap, ...rest } = raw as Record<string, unknown>;
    const parsed = mailboxSchema.safeParse(rest);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) add(describeIssue(issue));
      return;
    }
    const inbox = toInbox(parsed.data, dirname(file), defaults, secrets, add);
    if (inbox) inboxes.push(inbox);
  });

  // Two entries for one id would share a lease and a status; for one folder, its progress.
  const seen = new Map<string, string>();
  for (const inbox of inboxes) {
    const account = (inbox.source === 'graph' ? `graph:${inbox.graph.mailbox}/${inbox.graph.folder}` : `${inbox.imap.user}@${inbox.imap.host}:${inbox.imap.port}/${inbox.imap.mailbox}`).toLowerCase();
    for (const [key, what] of [[`id ${inbox.id}`, `the id "${inbox.id}"`], [`account ${account}`, `the folder ${account}`]] as const) {
      const first = seen.get(key);
      if (first) problems.push(`${where}: mailbox "${inbox.id}": ${what} is already watched by mailbox "${first}"`);
      else seen.set(key, inbox.id);
    }
  }
  if (problems.length > 0) throw new MailboxesFileError(problems);
  return inboxes;
}

/** The checks every inbox shares, whatever it is read from: its allowlist, sender policy, download folder. */
function commonOf(m: Pick<MailboxEntry, 'allowedHosts' | 'allowedForwarders' | 'authservId' | 'maxLinks' | 'downloadFolder' | 'include' | 'exclude'>, defaults: MailboxDefaults, fail: (message: string) => void) {
  const allowedHosts = m.allowedHosts ?? defaults.allowedHosts;
  if (m.allowedHosts) {
    for (const entry of m.allowedHosts) {
      if (!coveredBy(entry, defaults.allowedHosts)) fail(`allowedHosts: "${entry.source}" is not within FASPEX_ALLOWED_HOSTS, so the workers would refuse its links; add it there too`);
    }
  }
  const allowedForwarders = m.allowedForwarders ?? defaults.allowedForwarders;
  const authservId = m.authservId ?? defaults.authservId;
  if (allowedForwarders !== undefined && authservId === undefined) fail('authservId is required with allowedForwarders (or set MAIL_AUTHSERV_ID): without it a forged From cannot be told apart');
  let downloadFolder: string | undefined;
  if (m.downloadFolder !== undefined) {
    const checked = checkDownloadFolder(m.downloadFolder);
    if (checked.ok) downloadFolder = checked.folder;
    else fail(`downloadFolder: ${checked.reason}`);
  }
  return {
    allowedHosts, senderPolicy: allowedForwarders && authservId ? { allowedForwarders, authservId } : undefined, maxLinks: m.maxLinks ?? defaults.maxLinks, downloadFolder,
    ...(m.include !== undefined || m.exclude !== undefined ? { filter: { ...(m.include && { include: m.include }), ...(m.exclude && { exclude: m.exclude }) } } : {}),
  };
}

function toGraphInbox(m: GraphMailboxEntry, baseDir: string, defaults: MailboxDefaults, secrets: SecretSources, add: (message: string) => void): InboxConfig | undefined {
  let ok = true;
  const fail = (message: string) => {
    ok = false;
    add(message);
  };
  const clientSecret = m.clientSecretFile ?? m.clientSecretEnv ? readSecret('clientSecret', m.clientSecretFile, m.clientSecretEnv, baseDir, secrets, fail) : undefined;
  const path = (p: string | undefined) => (p === undefined ? undefined : resolve(baseDir, p));
  const labels: Record<GraphField, string> = { mailbox: 'mailbox', tenant: 'tenant', clientId: 'clientId', clientSecret: 'clientSecretFile (or clientSecretEnv)', certificateFile: 'certificateFile', keyFile: 'keyFile', tokenUrl: 'tokenUrl' };
  const parsed = parseGraphInbox(
    { mailbox: m.mailbox, folder: m.folder, tenant: m.tenant, clientId: m.clientId, clientSecret, certificateFile: path(m.certificateFile), keyFile: path(m.keyFile), pollSeconds: m.pollSeconds, baseUrl: m.baseUrl, tokenUrl: m.tokenUrl, caFile: path(m.caFile), markKeyword: m.markKeyword, moveTo: m.moveTo },
    (f) => labels[f],
  );
  if (!parsed.ok) for (const p of parsed.problems) fail(p);
  const common = commonOf(m, defaults, fail);
  if (!ok || !parsed.ok) return undefined;
  return { id: m.id, source: 'graph', graph: parsed.graph, ...common };
}

function toInbox(m: MailboxEntry, baseDir: string, defaults: MailboxDefaults, secrets: SecretSources, add: (message: string) => void): InboxConfig | undefined {
  const ok = { value: true };
  const fail = (message: string) => {
    ok.value = false;
    add(message);
  };
  const login = readLogin(m, baseDir, secrets, fail);
  const common = commonOf(m, defaults, fail);
  if (!ok.value || login === undefined) return undefined;

  const imap: ImapConfig = {
    host: m.host,
    port: m.port,
    secure: m.secure,
    user: m.user,
    password: login.kind === 'password' ? login.password : '',
    auth: login,
    tls: { caFile: m.caFile === undefined ? undefined : resolve(baseDir, m.caFile), insecure: m.insecureTls },
    mailbox: m.folder,
    markKeyword: m.markKeyword,
    moveTo: m.moveTo,
    resyncSeconds: m.resyncSeconds,
    startAt: m.startAt,
  };
  return { id: m.id, imap, ...common };
}

/** The mailbox's login, its secrets read; OAuth2 is checked by the imap-auth parser, named by these keys. */
function readLogin(m: MailboxEntry, baseDir: string, secrets: SecretSources, fail: (message: string) => void): ImapAuth | undefined {
  const a = m.auth;
  if (a.method === 'password') {
    const password = readSecret('auth.password', a.passwordFile, a.passwordEnv, baseDir, secrets, fail);
    return password === undefined ? undefined : { kind: 'password', user: m.user, password };
  }
  const clientSecret = a.clientSecretFile ?? a.clientSecretEnv ? readSecret('auth.clientSecret', a.clientSecretFile, a.clientSecretEnv, baseDir, secrets, fail) : undefined;
  const refreshToken = a.refreshTokenFile ?? a.refreshTokenEnv ? readSecret('auth.refreshToken', a.refreshTokenFile, a.refreshTokenEnv, baseDir, secrets, fail) : undefined;
  const path = (p: string | undefined) => (p === undefined ? undefined : resolve(baseDir, p));
  const labels: Record<ImapAuthField, string> = {
    auth: 'auth.method', user: 'user', password: 'auth.password', provider: 'auth.provider', tenant: 'auth.tenant', clientId: 'auth.clientId',
    clientSecret: 'auth.clientSecretFile (or auth.clientSecretEnv)', certificateFile: 'auth.certificateFile', keyFile: 'auth.keyFile',
    tokenUrl: 'auth.tokenUrl', scope: 'auth.scope', refreshToken: 'auth.refreshTokenFile (or auth.refreshTokenEnv)',
  };
  const parsed = parseImapAuth(
    { auth: 'oauth2', user: m.user, provider: a.provider, tenant: a.tenant, clientId: a.clientId, clientSecret, certificateFile: path(a.certificateFile), keyFile: path(a.keyFile), tokenUrl: a.tokenUrl, scope: a.scope, refreshToken },
    { label: (f) => labels[f] },
  );
  if (parsed.ok) return parsed.auth;
  for (const problem of parsed.problems) fail(problem);
  return undefined;
}

/** A secret named by a file (relative to the mailboxes file) or a variable; never its value in a message. */
function readSecret(field: string, file: string | undefined, envName: string | undefined, baseDir: string, secrets: SecretSources, fail: (message: string) => void): string | undefined {
  if (envName !== undefined) {
    const value = secrets.env[envName];
    if (value === undefined || value === '') {
      fail(`${field}Env: the variable ${envName} is not set`);
      return undefined;
    }
    return value;
  }
  const path = isAbsolute(file!) ? file! : resolve(baseDir, file!);
  try {
    // One trailing newline is how editors and `echo` leave a file; it is not part of the secret.
    const value = secrets.readFile(path).replace(/\r?\n$/, '');
    if (value === '') {
      fail(`${field}File: ${path} is empty`);
      return undefined;
    }
    return value;
  } catch (e) {
    fail(`${field}File: ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/**
 * JSON.parse's reason without the text it quotes (V8: `Unexpected token 's', ..."password":s3cre"...
 * is not valid JSON`): a password written into the file by mistake must not reach the start-up
 * error. The position, as line and column, is what a person needs to find the mistake.
 */
function jsonProblem(message: string, text: string): string {
  const reason = message
    .replace(/,\s*(?:\.\.\.)?".*"(?:\.\.\.)?\s*is not valid JSON$/s, '')
    .replace(/\s*in JSON at position \d+.*$/s, '');
  // another Node's wording may quote the text some other way: then no wording at all
  const safe = reason.includes('"') ? 'unexpected text' : reason;
  const position = /at position (\d+)/.exec(message);
  if (!position) return safe;
  const before = text.slice(0, Number(position[1])).split('\n');
  return `${safe} at line ${before.length} column ${before.at(-1)!.length + 1}`;
}

function mailboxName(raw: unknown, index: number): string {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' && INBOX_ID.test(id) ? `mailbox "${id}"` : `mailbox #${index + 1}`;
}

/** `field.sub: message`, in words a person acts on; zod's own messages never contain the value. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((k) => `"${k}"`).join(', ')} (a typo? see README "Several inboxes")`;
  else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) message = 'is required';
  else message = message.replace(/^Invalid input: /, '');
  return path ? `${path}: ${message}` : message;
}
