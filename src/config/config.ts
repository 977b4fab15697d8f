/**
 * The one place that reads configuration: environment plus an optional `.env` in the working
 * directory (the environment wins). Everything else receives a typed, validated Config.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import type { AllowedHost } from '../faspex/allowlist.js';
import type { TransportSettings } from '../fasp/transport.js';
import type { ProxySettings } from '../http/proxy.js';
import { registerSecret } from '../log/secrets.js';
import { clusterPrefixProblem, type RedisSettings } from '../queue/redis-shape.js';
import type { CapSettings } from '../queue/transfer-caps.js';
import type { ImapConfig, InboxConfig } from './inbox.js';
import { readInboxSettings, type MailboxesReader, type MailPolicy } from './inbox-settings.js';
import { readSecretFileFrom, resolveSecretFiles } from './secret-files.js';
import { ConfigError } from './config-error.js';
import { parsePassphrasesFile } from './passphrases-file.js';
import type { PassphraseRule } from '../decrypt/passphrase-choice.js';
import type { FileFilter } from '../verify/file-filter.js';
import { mapOptional, variableReader } from './variable-reader.js';
import { SECRET_VARIABLES, VARIABLES, type VariableName, type VariableSpec, type VariableValue } from './variables.js';

export type Role = 'run' | 'listen' | 'work' | 'dashboard' | 'download' | 'resolve' | 'enqueue' | 'status' | 'demo' | 'offline';

export type { GraphConfig, ImapConfig, ImapTls, InboxConfig } from './inbox.js';
export type { MailboxesReader } from './inbox-settings.js';
export { ConfigError };

export interface FaspexConfig {
  allowedHosts: AllowedHost[];
  username: string | undefined;
  password: string | undefined;
  caFile: string | undefined;
  insecureTls: boolean;
  timeoutMs: number;
  /** raw JSON; parsed by the Faspex 5 client */
  faspex5Clients: string | undefined;
  /** FASPEX5_SWEEP_SECONDS, in ms: the default sweep period of a Faspex 5 box */
  faspex5SweepMs?: number;
  /** outbound proxy (the same as Config.proxy); absent: direct */
  proxy?: ProxySettings;
}

export interface Config {
  redis: RedisSettings;
  dataDir: string;
  /** the inbox of the IMAP_* variables, when they are used */
  imap: ImapConfig | undefined;
  /** every inbox to watch: MAILBOXES_FILE's, or the one of the IMAP_* variables (id `default`) */
  inboxes: InboxConfig[];
  listener: { leaseMs: number };
  mail: MailPolicy;
  faspex: FaspexConfig;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY, for every outbound HTTP request */
  proxy: ProxySettings;
  downloads: {
    dir: string;
    ascpPath: string | undefined;
    ascpSshKey: string | undefined;
    stallSeconds: number;
    /** DOWNLOAD_DIR_RESERVE_MB in bytes: free space a package may not eat into */
    reserveBytes?: number;
    /** DISK_SPACE_RECHECK_SECONDS: how soon a package waiting for space looks again */
    spaceRecheckMs?: number;
    /** ASCP_WSS, ASCP_HTTP_FALLBACK, ASCP_PROXY and the outbound proxy; absent: the defaults */
    transport?: TransportSettings;
    /** DECRYPT, DECRYPT_PASSPHRASE, DECRYPT_PASSPHRASES_FILE; absent: auto, no passphrase */
    decrypt?: DecryptSettings;
    /** FILE_INCLUDE, FILE_EXCLUDE; absent: every file */
    filter?: FileFilter;
  };
  workers: {
    concurrency: number;
    attempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    lockMs: number;
    keepCompletedSeconds: number;
    keepFailedSeconds: number;
    webhookUrl: string | undefined;
    /** COMPLETION_WEBHOOK_SECRET: the key of the webhook's signature header */
    webhookSecret?: string;
    /** ON_COMPLETE_COMMAND and its deadline: the hand-off after each complete package */
    onComplete?: { argv: string[]; timeoutMs: number };
    /** transfer caps per Faspex server and transfer host */
    caps: CapSettings;
  };
  dashboard: { host: string; port: number; user: string | undefined; password: string | undefined; readOnly: boolean; metricsPort?: number };
  logLevel: VariableValue<'LOG_LEVEL'>;
  logFormat: VariableValue<'LOG_FORMAT'>;
}

const REQUIRED_BY_ROLE: Partial<Record<Role, VariableName[]>> = {
  run: ['IMAP_HOST', 'IMAP_USER', 'IMAP_PASSWORD', 'FASPEX_ALLOWED_HOSTS'],
  listen: ['IMAP_HOST', 'IMAP_USER', 'IMAP_PASSWORD', 'FASPEX_ALLOWED_HOSTS'],
  work: ['FASPEX_ALLOWED_HOSTS'],
  download: ['FASPEX_ALLOWED_HOSTS'],
  resolve: ['FASPEX_ALLOWED_HOSTS'],
  enqueue: ['FASPEX_ALLOWED_HOSTS'],
};

/** Reads `.env` from `dir` (if present) under the given environment; the environment wins. */
export function environmentWithDotenv(env: NodeJS.ProcessEnv, dir = process.cwd()): NodeJS.ProcessEnv {
  const file = resolve(dir, '.env');
  if (!existsSync(file)) return env;
  let fromFile: Record<string, string>;
  try {
    fromFile = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (e) {
    throw new ConfigError([`${file} cannot be read: ${(e as Error).message}`]);
  }
  return { ...fromFile, ...env };
}

/** `https_proxy` and friends: an alias, when given, is the value (lowercase wins, as in undici and curl). */
function withAliases(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const [name, spec] of Object.entries(VARIABLES) as [string, VariableSpec<unknown>][]) {
    const alias = spec.aliases?.find((a) => env[a] !== undefined && env[a] !== '');
    if (alias) out[name] = env[alias];
  }
  return out;
}

export interface DecryptSettings {
  mode: 'auto' | 'never';
  rules: PassphraseRule[];
  /** DECRYPT_PASSPHRASE */
  fallback: string | undefined;
}


/** loadConfig for a command that may read MAILBOXES_FILE (`run`, `listen`, the demo): loads its reader first. */
export async function loadServiceConfig(given: NodeJS.ProcessEnv, role: Role, cwd = process.cwd()): Promise<Config> {
  return loadConfig(given, role, cwd, needsInboxes(role) ? await import('./mailboxes-file.js') : undefined);
}

export function loadConfig(given: NodeJS.ProcessEnv, role: Role, cwd = process.cwd(), mailboxes?: MailboxesReader): Config {
  const files = resolveSecretFiles(withAliases(given), SECRET_VARIABLES, readSecretFileFrom(cwd));
  const env = files.env;
  const problems: string[] = [...files.problems];
  for (const name of SECRET_VARIABLES) registerSecret(env[name]);
  const reader = variableReader(env, cwd, problems);
  const { read, abs } = reader;

  const mailboxesFile = read('MAILBOXES_FILE');
  const oauth = env.IMAP_AUTH?.trim().toLowerCase() === 'oauth2';
  const viaGraph = read('MAIL_SOURCE') === 'graph';
  for (const name of REQUIRED_BY_ROLE[role] ?? []) {
    if (files.failed.has(name)) continue;
    if (name === 'IMAP_PASSWORD' && oauth) continue;
    if ((mailboxesFile !== undefined || viaGraph) && name.startsWith('IMAP_')) continue;
    if (env[name] === undefined || env[name] === '') problems.push(`${name} is required for \`${role}\` (${VARIABLES[name].doc})`);
  }
  const { imap, inboxes, allowedHosts, mail } = readInboxSettings(reader, { role, readsInboxes: needsInboxes(role), mailboxes });

  const username = read('FASPEX_USERNAME');
  const password = read('FASPEX_PASSWORD');
  if ((username === undefined) !== (password === undefined)) {
    problems.push('FASPEX_USERNAME and FASPEX_PASSWORD go together: set both or neither');
  }
  const dashboardHost = read('DASHBOARD_HOST')!;
  const dashboardUser = read('DASHBOARD_USER');
  const dashboardPassword = read('DASHBOARD_PASSWORD');
  if ((dashboardUser === undefined) !== (dashboardPassword === undefined)) {
    problems.push('DASHBOARD_USER and DASHBOARD_PASSWORD go together: set both or neither');
  }
  if ((role === 'run' || role === 'dashboard') && !isLoopback(dashboardHost) && dashboardUser === undefined) {
    problems.push(`DASHBOARD_USER and DASHBOARD_PASSWORD are required: the dashboard listens on ${dashboardHost}, beyond loopback`);
  }

  const retryBase = read('RETRY_BASE_SECONDS');
  const retryMax = read('RETRY_MAX_SECONDS');
  if (retryBase !== undefined && retryMax !== undefined && retryMax < retryBase) {
    problems.push('RETRY_MAX_SECONDS must not be smaller than RETRY_BASE_SECONDS');
  }

  let passphraseRules: PassphraseRule[] = [];
  const passphrasesFile = read('DECRYPT_PASSPHRASES_FILE');
  if (passphrasesFile !== undefined) {
    const file = abs(passphrasesFile);
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      problems.push(`DECRYPT_PASSPHRASES_FILE ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (text !== undefined) {
      const parsedRules = parsePassphrasesFile(file, text, { readFile: readSecretFileFrom(cwd), env });
      for (const rule of parsedRules.rules) registerSecret(rule.passphrase);
      problems.push(...parsedRules.problems);
      passphraseRules = parsedRules.rules;
    }
  }
  if (read('REDIS_SENTINELS') !== undefined && read('REDIS_SENTINEL_MASTER') === undefined) {
    problems.push('REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS: the name the sentinels monitor the master by');
  }
  if (read('REDIS_SENTINELS') !== undefined && read('REDIS_CLUSTER_NODES') !== undefined) {
    problems.push('REDIS_SENTINELS and REDIS_CLUSTER_NODES exclude each other: a Cluster has no Sentinels');
  }
  const prefix = read('QUEUE_PREFIX');
  if (read('REDIS_CLUSTER_NODES') !== undefined && prefix !== undefined) {
    const problem = clusterPrefixProblem(prefix);
    if (problem) problems.push(problem);
  }
  const proxy: ProxySettings = { httpsProxy: read('HTTPS_PROXY'), httpProxy: read('HTTP_PROXY'), noProxy: read('NO_PROXY') };
  // a proxy's login is a secret like any other; its host and port are what messages show
  for (const p of [proxy.httpsProxy, proxy.httpProxy]) if (p) registerProxyLogin(p);
  const ascpProxy = read('ASCP_PROXY');
  if (ascpProxy !== undefined && new URL(ascpProxy).password) {
    registerProxyLogin(ascpProxy);
    problems.push('ASCP_PROXY: a proxy login would show in ascp\'s command line, which every local user can read; use a proxy that lets the transfer host through without one');
  }

  const config: Config = {
    redis: {
      url: read('REDIS_URL'),
      prefix: read('QUEUE_PREFIX')!,
      caFile: mapOptional(read('REDIS_CA_FILE'), abs),
      sentinels: read('REDIS_SENTINELS'),
      sentinelMaster: read('REDIS_SENTINEL_MASTER'),
      sentinelPassword: read('REDIS_SENTINEL_PASSWORD'),
      clusterNodes: read('REDIS_CLUSTER_NODES'),
      waitReplicas: read('REDIS_WAIT_REPLICAS'),
    },
    dataDir: abs(read('DATA_DIR')!),
    imap,
    inboxes,
    listener: { leaseMs: read('LISTENER_LEASE_SECONDS')! * 1000 },
    mail,
    faspex: {
      allowedHosts,
      username,
      password,
      caFile: mapOptional(read('FASPEX_CA_FILE'), abs),
      insecureTls: read('FASPEX_INSECURE_TLS')!,
      timeoutMs: (read('FASPEX_TIMEOUT_SECONDS') ?? 30) * 1000,
      faspex5Clients: read('FASPEX5_CLIENTS'),
      faspex5SweepMs: (read('FASPEX5_SWEEP_SECONDS') ?? 300) * 1000,
      proxy,
    },
    proxy,
    downloads: {
      dir: abs(read('DOWNLOAD_DIR')!),
      ascpPath: read('ASCP_PATH'),
      ascpSshKey: mapOptional(read('ASCP_SSH_KEY'), abs),
      stallSeconds: read('DOWNLOAD_STALL_SECONDS')!,
      reserveBytes: read('DOWNLOAD_DIR_RESERVE_MB')! * 1024 * 1024,
      spaceRecheckMs: read('DISK_SPACE_RECHECK_SECONDS')! * 1000,
      transport: { wss: read('ASCP_WSS')!, httpFallback: read('ASCP_HTTP_FALLBACK')!, proxy: ascpProxy, outbound: proxy },
      decrypt: { mode: read('DECRYPT')!, rules: passphraseRules, fallback: read('DECRYPT_PASSPHRASE') },
      filter: { include: read('FILE_INCLUDE') ?? [], exclude: read('FILE_EXCLUDE') ?? [] },
    },
    workers: {
      concurrency: read('WORKER_CONCURRENCY')!,
      attempts: read('DOWNLOAD_ATTEMPTS')!,
      retryBaseMs: (retryBase ?? 15) * 1000,
      retryMaxMs: (retryMax ?? 900) * 1000,
      lockMs: read('WORKER_LOCK_SECONDS')! * 1000,
      keepCompletedSeconds: read('KEEP_COMPLETED_DAYS')! * 86400,
      keepFailedSeconds: read('KEEP_FAILED_DAYS')! * 86400,
      webhookUrl: read('COMPLETION_WEBHOOK_URL'),
      webhookSecret: read('COMPLETION_WEBHOOK_SECRET'),
      onComplete: mapOptional(read('ON_COMPLETE_COMMAND'), (argv) => ({ argv, timeoutMs: read('ON_COMPLETE_TIMEOUT_SECONDS')! * 1000 })),
      caps: {
        perServer: read('FASPEX_MAX_TRANSFERS_PER_SERVER'),
        servers: read('FASPEX_MAX_TRANSFERS') ?? {},
        perTransferHost: read('TRANSFER_MAX_PER_HOST'),
        transferHosts: read('TRANSFER_MAX') ?? {},
        loweredForMs: read('TRANSFER_CAP_LOWERED_SECONDS')! * 1000,
      },
    },
    dashboard: { host: dashboardHost, port: read('DASHBOARD_PORT')!, user: dashboardUser, password: dashboardPassword, readOnly: read('DASHBOARD_READ_ONLY')!, metricsPort: read('METRICS_PORT') },
    logLevel: read('LOG_LEVEL') ?? 'info',
    logFormat: read('LOG_FORMAT') ?? 'auto',
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Only the roles that read mail open the file (and its secrets). */
function needsInboxes(role: Role): boolean {
  return role === 'run' || role === 'listen';
}

function registerProxyLogin(proxy: string): void {
  const u = new URL(proxy);
  if (u.password) {
    registerSecret(u.password);
    registerSecret(decodeURIComponent(u.password));
  }
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
