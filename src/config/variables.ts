/**
 * Every environment variable the service reads, with its parser and default. This table is
 * the single source: config.ts builds the typed config from it, and a test checks that
 * `.env.example` and the README document every entry.
 */
import { AllowlistSyntaxError, parseAllowlist } from '../faspex/allowlist.js';
import { parseHostPorts, type HostPort } from '../queue/redis-shape.js';
import { parseCapList } from '../queue/transfer-caps.js';
import { parseGlobList } from '../verify/file-filter.js';

export type Parser<T> = (raw: string) => T;

const integer = (min: number, max: number): Parser<number> => (raw) => {
  if (!/^\d+$/.test(raw.trim())) throw new Error(`expected a whole number from ${min} to ${max}, got "${raw}"`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new Error(`expected a whole number from ${min} to ${max}, got ${n}`);
  return n;
};

const boolean: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new Error(`expected true or false, got "${raw}"`);
};

const text: Parser<string> = (raw) => raw;

const nonEmpty: Parser<string> = (raw) => {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw.trim();
};

const oneOf = <T extends string>(...values: T[]): Parser<T> => (raw) => {
  const v = raw.trim().toLowerCase();
  if (!(values as string[]).includes(v)) throw new Error(`expected one of ${values.join(', ')}, got "${raw}"`);
  return v as T;
};

const url = (schemes: string[]): Parser<string> => (raw) => {
  // WHATWG URL parsing, as fetch and ioredis do; no schema library on the start-up path
  let parsed: URL;
  try {
    parsed = new URL(raw.trim());
  } catch {
    throw new Error(`expected a URL, got "${raw}"`);
  }
  const scheme = parsed.protocol.replace(':', '');
  if (!schemes.includes(scheme)) throw new Error(`expected a ${schemes.join(' or ')} URL, got a ${scheme} one`);
  return raw.trim();
};

const allowlist: Parser<ReturnType<typeof parseAllowlist>> = (raw) => {
  try {
    const list = parseAllowlist(raw);
    if (list.length === 0) throw new Error('lists no host');
    return list;
  } catch (e) {
    if (e instanceof AllowlistSyntaxError) throw new Error(e.message, { cause: e });
    throw e;
  }
};

const emailList: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
    .map((s) => {
      if (!/^(\*@)?[^@\s]+@?[^@\s]*$/.test(s) || (!s.includes('@') && !s.includes('.'))) {
        throw new Error(`"${s}" is neither an address nor a domain`);
      }
      return s;
    });

const redisPrefix: Parser<string> = (raw) => {
  const v = raw.trim();
  if (!/^[A-Za-z0-9_{}.-]+$/.test(v)) throw new Error('use letters, digits, _ . - and an optional {hash tag}');
  return v;
};

/** A command as a JSON array of strings (argv, run without a shell), e.g. ["/usr/local/bin/archive", "--fast"]. */
const argvList: Parser<string[]> = (raw) => {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error('expected a JSON array of strings, e.g. ["/usr/local/bin/archive", "--fast"] (no shell: one string per argument)');
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((a) => typeof a === 'string') || value[0] === '') {
    throw new Error('expected a JSON array of strings whose first item is the program, e.g. ["/usr/local/bin/archive", "--fast"]');
  }
  return value as string[];
};

const hostPorts = (defaultPort: number): Parser<HostPort[]> => (raw) => parseHostPorts(raw, defaultPort);

/** A proxy URL; the error never repeats the value, which may hold the proxy's password. */
const proxyUrl: Parser<string> = (raw) => {
  if (!raw.includes('://')) throw new Error('expected a proxy URL such as http://proxy.example.com:3128');
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new Error('expected a proxy URL such as http://proxy.example.com:3128');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`expected an http:// or https:// proxy URL, not ${u.protocol}//`);
  if (u.pathname !== '/' || u.search || u.hash) throw new Error('expected a proxy URL without a path, such as http://proxy.example.com:3128');
  return raw.trim();
};

export interface VariableSpec<T> {
  parse: Parser<T>;
  /** value used when the variable is unset or empty; undefined means "no default" */
  default?: string;
  /** masked in errors and logs, and also readable from a file named by NAME_FILE */
  secret?: boolean;
  /** other names read too, and first (the lowercase proxy variables, as curl and undici read them) */
  aliases?: readonly string[];
  /** one line for `.env.example` and the README */
  doc: string;
  group: 'Redis and storage' | 'Mail' | 'Faspex' | 'Network' | 'Downloads' | 'Workers' | 'Dashboard' | 'Logging';
}

const v = <T>(spec: VariableSpec<T>): VariableSpec<T> => spec;

export const VARIABLES = {
  REDIS_URL: v({ parse: url(['redis', 'rediss']), secret: true, group: 'Redis and storage',
    doc: 'Redis for the queues: redis:// or rediss:// (TLS), [user:password@]host:port[/db]. With REDIS_SENTINELS or REDIS_CLUSTER_NODES only its scheme, user and password count. Unset: `run` starts a local redis-server with its data in DATA_DIR/redis.' }),
  REDIS_CA_FILE: v({ parse: nonEmpty, group: 'Redis and storage', doc: 'PEM file of a private CA that signed the Redis TLS certificate (with rediss://).' }),
  REDIS_SENTINELS: v({ parse: hostPorts(26379), group: 'Redis and storage',
    doc: 'Redis Sentinel: host:port,host:port,... of the sentinels; the master is found through them and followed on failover.' }),
  REDIS_SENTINEL_MASTER: v({ parse: nonEmpty, group: 'Redis and storage', doc: 'The master name the sentinels monitor (required with REDIS_SENTINELS).' }),
  REDIS_SENTINEL_PASSWORD: v({ parse: text, secret: true, group: 'Redis and storage',
    doc: 'Password of the sentinels themselves (requirepass in sentinel.conf); the master\'s comes from REDIS_URL.' }),
  REDIS_WAIT_REPLICAS: v({ parse: integer(0, 10), group: 'Redis and storage',
    doc: 'Replicas that must confirm a mail\'s jobs (WAIT) before the mail counts as handled; default 1 with Sentinel or Cluster (a failover can drop writes the old master confirmed), 0 for one server.' }),
  REDIS_CLUSTER_NODES: v({ parse: hostPorts(6379), group: 'Redis and storage',
    doc: 'Redis Cluster: host:port,... of some nodes (the rest is discovered). QUEUE_PREFIX must then be a {hash tag}.' }),
  QUEUE_PREFIX: v({ parse: redisPrefix, default: 'faspex-ingest', group: 'Redis and storage',
    doc: 'Prefix of every Redis key; write it as {name} to keep all keys in one Redis Cluster slot.' }),
  DATA_DIR: v({ parse: nonEmpty, default: './data', group: 'Redis and storage', doc: 'State kept on this machine (the embedded Redis).' }),

  IMAP_HOST: v({ parse: nonEmpty, group: 'Mail', doc: 'The inbox server (required by run and listen).' }),
  IMAP_PORT: v({ parse: integer(1, 65535), default: '993', group: 'Mail', doc: 'IMAP port.' }),
  IMAP_SECURE: v({ parse: boolean, default: 'true', group: 'Mail', doc: 'true: implicit TLS (993); false: plain, upgraded with STARTTLS when offered.' }),
  IMAP_USER: v({ parse: nonEmpty, group: 'Mail', doc: 'Inbox login.' }),
  IMAP_PASSWORD: v({ parse: text, secret: true, group: 'Mail', doc: 'Inbox password (IMAP_AUTH=password).' }),
  IMAP_AUTH: v({ parse: oneOf('password', 'oauth2'), default: 'password', group: 'Mail',
    doc: 'password, or oauth2: log in with an access token from IMAP_OAUTH_PROVIDER (see docs/mailbox-oauth.md); IMAP_USER is the mailbox address.' }),
  IMAP_OAUTH_PROVIDER: v({ parse: oneOf('microsoft', 'google', 'refresh-token'), group: 'Mail',
    doc: 'With IMAP_AUTH=oauth2: microsoft (Entra app-only), google (service account with domain-wide delegation) or refresh-token (any provider).' }),
  IMAP_OAUTH_TENANT: v({ parse: nonEmpty, group: 'Mail', doc: 'microsoft: the Entra directory (tenant) id or a verified domain.' }),
  IMAP_OAUTH_CLIENT_ID: v({ parse: nonEmpty, group: 'Mail', doc: 'microsoft: the application (client) id; refresh-token: the OAuth client id.' }),
  IMAP_OAUTH_CLIENT_SECRET: v({ parse: text, secret: true, group: 'Mail',
    doc: 'microsoft: a client secret of the app (or use IMAP_OAUTH_CERTIFICATE_FILE); refresh-token: the client secret, if the client has one.' }),
  IMAP_OAUTH_CERTIFICATE_FILE: v({ parse: nonEmpty, group: 'Mail',
    doc: 'microsoft: PEM certificate uploaded to the app registration; its private key signs the client assertion.' }),
  IMAP_OAUTH_KEY_FILE: v({ parse: nonEmpty, group: 'Mail',
    doc: 'microsoft: PEM private key of IMAP_OAUTH_CERTIFICATE_FILE (default: that file); google: the service account\'s JSON key file.' }),
  IMAP_OAUTH_TOKEN_URL: v({ parse: url(['https']), group: 'Mail',
    doc: 'Token endpoint. Default: login.microsoftonline.com/<tenant> (microsoft), the key file\'s token_uri (google); required for refresh-token.' }),
  IMAP_OAUTH_SCOPE: v({ parse: nonEmpty, group: 'Mail',
    doc: 'Default: https://outlook.office365.com/.default (microsoft), https://mail.google.com/ (google), none (refresh-token).' }),
  IMAP_OAUTH_REFRESH_TOKEN: v({ parse: text, secret: true, group: 'Mail',
    doc: 'refresh-token: the first refresh token; a rotated one the provider returns is kept in Redis and used from then on.' }),
  IMAP_CA_FILE: v({ parse: nonEmpty, group: 'Mail', doc: 'Extra PEM certificates to trust for the IMAP server and the token endpoint (a private CA).' }),
  IMAP_INSECURE_TLS: v({ parse: boolean, default: 'false', group: 'Mail', doc: 'true skips the IMAP server\'s certificate check; logged as a warning.' }),
  IMAP_MAILBOX: v({ parse: nonEmpty, default: 'INBOX', group: 'Mail', doc: 'Folder to watch.' }),
  IMAP_MARK_KEYWORD: v({ parse: boolean, default: 'true', group: 'Mail',
    doc: 'Flag handled mail with $FaspexQueued / $FaspexNoLink / $FaspexLinkDamaged / $FaspexFailed / $FaspexRefused where the server allows keywords (graph: the categories Faspex queued, Faspex no link, Faspex link damaged, Faspex failed, Faspex refused).' }),
  IMAP_MOVE_TO: v({ parse: nonEmpty, group: 'Mail', doc: 'Optional folder that handled mail is moved to (created when missing); graph: a folder\'s display name.' }),
  IMAP_RESYNC_SECONDS: v({ parse: integer(10, 86400), default: '300', group: 'Mail',
    doc: 'Full resync interval, a safety net for missed IDLE notifications.' }),
  IMAP_START_AT: v({ parse: oneOf('oldest', 'newest'), default: 'oldest', group: 'Mail',
    doc: 'First start on a mailbox: oldest processes the mail already there; newest only mail that arrives later.' }),
  MAIL_SOURCE: v({ parse: oneOf('imap', 'graph'), default: 'imap', group: 'Mail',
    doc: 'How the one inbox is read: imap (IMAP_*), or graph: a Microsoft 365 mailbox through Microsoft Graph (GRAPH_*, see docs/mailbox-oauth.md), for tenants that switched IMAP off.' }),
  GRAPH_MAILBOX: v({ parse: nonEmpty, group: 'Mail', doc: 'graph: the mailbox\'s address (user principal name or SMTP address).' }),
  GRAPH_FOLDER: v({ parse: nonEmpty, default: 'Inbox', group: 'Mail', doc: 'graph: the folder to watch, by display name (Inbox, or a folder at the top or under Inbox).' }),
  GRAPH_TENANT: v({ parse: nonEmpty, group: 'Mail', doc: 'graph: the Entra directory (tenant) id or a verified domain.' }),
  GRAPH_CLIENT_ID: v({ parse: nonEmpty, group: 'Mail', doc: 'graph: the application (client) id of the app registration with Mail.ReadWrite (application).' }),
  GRAPH_CLIENT_SECRET: v({ parse: text, secret: true, group: 'Mail', doc: 'graph: a client secret of the app (or use GRAPH_CERTIFICATE_FILE).' }),
  GRAPH_CERTIFICATE_FILE: v({ parse: nonEmpty, group: 'Mail', doc: 'graph: PEM certificate registered on the app; the token request is a signed client assertion.' }),
  GRAPH_KEY_FILE: v({ parse: nonEmpty, group: 'Mail', doc: 'graph: PEM private key of GRAPH_CERTIFICATE_FILE (default: that file).' }),
  GRAPH_POLL_SECONDS: v({ parse: integer(2, 3600), default: '10', group: 'Mail',
    doc: 'graph: seconds between delta queries on the folder; 10 s costs 60 of the 10,000 requests per 10 minutes Graph allows an app per mailbox.' }),
  GRAPH_BASE_URL: v({ parse: url(['https']), default: 'https://graph.microsoft.com', group: 'Mail', doc: 'graph: the Graph endpoint (national clouds: https://graph.microsoft.us, https://microsoftgraph.chinacloudapi.cn).' }),
  GRAPH_TOKEN_URL: v({ parse: url(['https']), group: 'Mail', doc: 'graph: the token endpoint (default: https://login.microsoftonline.com/GRAPH_TENANT/oauth2/v2.0/token).' }),
  GRAPH_CA_FILE: v({ parse: nonEmpty, group: 'Mail', doc: 'graph: extra PEM certificates to trust for Graph and the token endpoint (a private CA or a TLS-inspecting proxy).' }),
  MAILBOXES_FILE: v({ parse: nonEmpty, group: 'Mail',
    doc: 'Optional: a JSON file describing several inboxes (see README "Several inboxes"); replaces the IMAP_* variables.' }),
  LISTENER_LEASE_SECONDS: v({ parse: integer(3, 300), default: '15', group: 'Mail',
    doc: 'Lease of the listener reading an inbox; a standby `listen` for the same inbox takes over at most this long after the active one dies.' }),
  MAIL_MAX_LINKS: v({ parse: integer(1, 10000), default: '50', group: 'Mail',
    doc: 'A mail with more package links than this is refused (and recorded) as a likely mail bomb.' }),
  MAIL_ALLOWED_FORWARDERS: v({ parse: emailList, group: 'Mail',
    doc: 'Optional: only mail From these addresses or domains is read, and only when MAIL_AUTHSERV_ID shows DMARC or aligned DKIM passing.' }),
  MAIL_AUTHSERV_ID: v({ parse: nonEmpty, group: 'Mail',
    doc: 'authserv-id of your own receiving server in Authentication-Results (required with MAIL_ALLOWED_FORWARDERS).' }),

  FASPEX_ALLOWED_HOSTS: v({ parse: allowlist, group: 'Faspex',
    doc: 'Comma-separated host[:port] patterns (*.example.com allowed; http:// only when written) that links may point to (required by run, listen, work).' }),
  FASPEX_USERNAME: v({ parse: nonEmpty, group: 'Faspex', doc: 'A Faspex account, for received/<id> links and issue-token.' }),
  FASPEX_PASSWORD: v({ parse: text, secret: true, group: 'Faspex', doc: 'Password of FASPEX_USERNAME.' }),
  FASPEX_CA_FILE: v({ parse: nonEmpty, group: 'Faspex', doc: 'Extra PEM certificates to trust for Faspex HTTPS.' }),
  FASPEX_INSECURE_TLS: v({ parse: boolean, default: 'false', group: 'Faspex', doc: 'true skips certificate checks (like curl -k); logged as a warning.' }),
  FASPEX_TIMEOUT_SECONDS: v({ parse: integer(1, 600), default: '30', group: 'Faspex', doc: 'Timeout of every Faspex HTTP request.' }),
  FASPEX5_CLIENTS: v({ parse: text, secret: true, group: 'Faspex',
    doc: 'Faspex 5 API clients, JSON keyed by host: inbox links, and the boxes (own inbox, shared inboxes, workgroups) swept for packages (see docs/faspex5.md).' }),
  FASPEX5_SWEEP_SECONDS: v({ parse: integer(5, 86400), default: '300', group: 'Faspex',
    doc: 'How often every Faspex 5 box of FASPEX5_CLIENTS is swept for packages no mail announced (an entry\'s `sweep_seconds` wins); a mail from the server sweeps at once.' }),

  HTTPS_PROXY: v({ parse: proxyUrl, aliases: ['https_proxy'], group: 'Network',
    doc: 'Proxy for every outbound https:// request (Faspex, OAuth token endpoints, the webhook), e.g. http://user:password@proxy.example.com:3128; https_proxy too (it wins). Unset: HTTP_PROXY.' }),
  HTTP_PROXY: v({ parse: proxyUrl, aliases: ['http_proxy'], group: 'Network',
    doc: 'Proxy for outbound plain http:// requests (and https:// ones when HTTPS_PROXY is unset); http_proxy too (it wins).' }),
  NO_PROXY: v({ parse: text, aliases: ['no_proxy'], group: 'Network',
    doc: 'Hosts reached without the proxy, comma-separated: example.com (and .example.com, *.example.com) covers its subdomains, host:port one port, * everything; no_proxy too (it wins).' }),

  DOWNLOAD_DIR: v({ parse: nonEmpty, default: './downloads', group: 'Downloads', doc: 'Where packages land, one folder per package.' }),
  ASCP_PATH: v({ parse: nonEmpty, group: 'Downloads', doc: 'The ascp executable (default: PATH, then the usual IBM install folders).' }),
  ASCP_SSH_KEY: v({ parse: nonEmpty, group: 'Downloads', doc: 'Private key for token-authorised transfers (default: found next to ascp).' }),
  ASCP_WSS: v({ parse: oneOf('auto', 'always', 'never'), default: 'auto', group: 'Downloads',
    doc: 'WebSocket (ascp --ws-connect) where the transfer spec offers it (wss_enabled, wss_port; Faspex 5): auto uses it, always refuses a transfer without it, never keeps to SSH and UDP.' }),
  ASCP_HTTP_FALLBACK: v({ parse: oneOf('auto', 'always', 'force', 'never'), default: 'auto', group: 'Downloads',
    doc: 'ascp HTTP fallback when UDP is blocked: auto as the transfer spec says, always (-y 1), force: HTTP only (-y F), never (-y 0).' }),
  ASCP_PROXY: v({ parse: proxyUrl, group: 'Downloads',
    doc: 'Proxy for ascp\'s HTTP fallback and WSS (ascp -x), e.g. http://proxy.example.com:3128 (no login: ascp\'s argv is public). Default: HTTPS_PROXY, unless NO_PROXY names the transfer host.' }),
  DOWNLOAD_STALL_SECONDS: v({ parse: integer(5, 86400), default: '300', group: 'Downloads',
    doc: 'A transfer with no progress for this long is stopped and retried.' }),
  DOWNLOAD_DIR_RESERVE_MB: v({ parse: integer(0, 100_000_000), default: '1024', group: 'Downloads',
    doc: 'Free space kept back in a package\'s folder: a package that would eat into it waits ("waiting for disk space", no attempt spent) until there is room.' }),
  DISK_SPACE_RECHECK_SECONDS: v({ parse: integer(1, 600), default: '60', group: 'Downloads',
    doc: 'How often a package waiting for disk space (too little before it starts, or ascp\'s disk full during the transfer) looks again.' }),
  DECRYPT: v({ parse: oneOf('auto', 'never'), default: 'auto', group: 'Downloads',
    doc: 'auto: ascp decrypts encrypted packages (content protection, `.aspera-env` files) while it receives them, with the passphrase chosen below; a package known to be encrypted with no passphrase fails at once (PASSPHRASE_MISSING). never: such packages are kept encrypted on purpose (the manifest says keptEncrypted).' }),
  DECRYPT_PASSPHRASE: v({ parse: text, secret: true, group: 'Downloads',
    doc: 'Passphrase for every encrypted package that DECRYPT_PASSPHRASES_FILE does not cover. Reaches ascp only as ASPERA_SCP_FILEPASS.' }),
  DECRYPT_PASSPHRASES_FILE: v({ parse: nonEmpty, group: 'Downloads',
    doc: 'JSON: {"sender:<address>" | "sender:@<domain>" | "inbox:<id>" | "server:<host[:port]>": {"passphraseFile": "<path>"} or {"passphraseEnv": "<NAME>"}}; the most specific match wins (address, domain, inbox, server), then DECRYPT_PASSPHRASE.' }),
  FILE_INCLUDE: v({ parse: parseGlobList, group: 'Downloads',
    doc: 'Only files whose path inside the package matches one of these comma-separated globs are transferred (e.g. *.mov,*.wav; ** crosses folders; a glob without / matches the name at any depth). Needs the server\'s file list.' }),
  FILE_EXCLUDE: v({ parse: parseGlobList, group: 'Downloads',
    doc: 'Files matching one of these comma-separated globs are not transferred (after FILE_INCLUDE). The manifest lists what was skipped.' }),

  WORKER_CONCURRENCY: v({ parse: integer(1, 64), default: '2', group: 'Workers', doc: 'Downloads at once per worker process.' }),
  DOWNLOAD_ATTEMPTS: v({ parse: integer(1, 100), default: '5', group: 'Workers', doc: 'Attempts per package before it is failed.' }),
  RETRY_BASE_SECONDS: v({ parse: integer(1, 86400), default: '15', group: 'Workers', doc: 'First retry delay; doubles each attempt, with jitter.' }),
  RETRY_MAX_SECONDS: v({ parse: integer(1, 86400), default: '900', group: 'Workers', doc: 'Longest retry delay.' }),
  WORKER_LOCK_SECONDS: v({ parse: integer(5, 3600), default: '60', group: 'Workers',
    doc: 'Lock on a running download, renewed while it runs; a killed worker\'s job moves to another worker this long after.' }),
  KEEP_COMPLETED_DAYS: v({ parse: integer(1, 3650), default: '30', group: 'Workers',
    doc: 'How long finished jobs are kept; while kept, the same package mailed again queues nothing.' }),
  KEEP_FAILED_DAYS: v({ parse: integer(1, 3650), default: '90', group: 'Workers', doc: 'How long failed jobs are kept.' }),
  FASPEX_MAX_TRANSFERS_PER_SERVER: v({ parse: integer(1, 1000), group: 'Workers',
    doc: 'Most transfers at once against one Faspex server, across all workers on all hosts (unset: no cap). Jobs over it wait without spending an attempt.' }),
  FASPEX_MAX_TRANSFERS: v({ parse: parseCapList, group: 'Workers',
    doc: 'Caps for particular Faspex servers, host[:port]=n,... (e.g. faspex.example.com=2,big.example.com=8); wins over FASPEX_MAX_TRANSFERS_PER_SERVER.' }),
  TRANSFER_MAX_PER_HOST: v({ parse: integer(1, 1000), group: 'Workers',
    doc: 'Most transfers at once against one transfer host (the HSTS node ascp connects to), across all workers (unset: no cap).' }),
  TRANSFER_MAX: v({ parse: parseCapList, group: 'Workers', doc: 'Caps for particular transfer hosts, host=n,...; wins over TRANSFER_MAX_PER_HOST.' }),
  TRANSFER_CAP_LOWERED_SECONDS: v({ parse: integer(10, 86400), default: '300', group: 'Workers',
    doc: 'A server that refuses a session as too many (ascp error 69, HTTP 429) gets its cap lowered to what it accepted, for this long.' }),
  COMPLETION_WEBHOOK_URL: v({ parse: url(['http', 'https']), secret: true, group: 'Workers',
    doc: 'Optional: receives a JSON POST (manifest or failure reason) for each finished package.' }),
  COMPLETION_WEBHOOK_SECRET: v({ parse: nonEmpty, secret: true, group: 'Workers',
    doc: 'Optional: signs each webhook POST: X-Faspex-Ingest-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"> (docs/handoff.md shows a receiver that checks it).' }),
  ON_COMPLETE_COMMAND: v({ parse: argvList, group: 'Workers',
    doc: 'Optional: a command run after each package is complete, as a JSON array (argv, no shell), with FASPEX_INGEST_PACKAGE_DIR, _MANIFEST, _TITLE, _SENDER and _INBOX in its environment; retried on its own, never downloading again (docs/handoff.md).' }),
  ON_COMPLETE_TIMEOUT_SECONDS: v({ parse: integer(1, 86400), default: '600', group: 'Workers',
    doc: 'ON_COMPLETE_COMMAND is stopped (and the hand-off retried) after this long.' }),

  DASHBOARD_HOST: v({ parse: nonEmpty, default: '127.0.0.1', group: 'Dashboard', doc: 'Dashboard address.' }),
  DASHBOARD_PORT: v({ parse: integer(0, 65535), default: '3000', group: 'Dashboard', doc: 'Dashboard port.' }),
  DASHBOARD_USER: v({ parse: nonEmpty, group: 'Dashboard', doc: 'Basic-auth user; required when the dashboard listens beyond loopback.' }),
  DASHBOARD_PASSWORD: v({ parse: text, secret: true, group: 'Dashboard', doc: 'Basic-auth password.' }),
  METRICS_PORT: v({ parse: integer(0, 65535), group: 'Dashboard',
    doc: 'Optional: `listen` and `work` serve /healthz and /metrics on DASHBOARD_HOST:METRICS_PORT (run and dashboard serve them on the dashboard port).' }),
  DASHBOARD_READ_ONLY: v({ parse: boolean, default: 'false', group: 'Dashboard', doc: 'true: the dashboard shows queues but cannot retry, clean or remove jobs.' }),

  LOG_LEVEL: v({ parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), default: 'info', group: 'Logging', doc: 'pino level.' }),
  LOG_FORMAT: v({ parse: oneOf('auto', 'json', 'human'), default: 'auto', group: 'Logging',
    doc: 'auto: one human line per log record when standard error is a terminal, JSON lines (pino) otherwise, e.g. for log shippers; json or human: always that. The --log-format flag overrides it.' }),
} as const;

export type VariableName = keyof typeof VARIABLES;

/** Variables marked secret: each also has a NAME_FILE form (src/config/secret-files.ts). */
export const SECRET_VARIABLES: readonly VariableName[] = (Object.keys(VARIABLES) as VariableName[]).filter((name) => {
  const spec: VariableSpec<unknown> = VARIABLES[name];
  return spec.secret === true;
});
export type VariableValue<K extends VariableName> = ReturnType<(typeof VARIABLES)[K]['parse']>;
