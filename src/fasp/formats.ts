/**
 * One download, printed for people and other tools (`fasp-url` and `resolve --format`).
 * Every format is derived from the same buildAscpCommand call, so a path ascp would refuse is
 * refused in every format, and what is printed is what a worker would run.
 *
 * Secrets (token, cookie) are printed as *** unless showSecrets: the output is meant to be
 * pasted into tickets and chats.
 */
import { MASK } from '../log/secrets.js';
import { buildAscpCommand, downloadSpec } from './ascp-command.js';
import type { Cipher, RatePolicy, ResumePolicy, TransferSpec } from './transfer-spec.js';
import type { TransportSettings } from './transport.js';

export const TRANSFER_FORMATS = ['transfer-spec', 'ascp', 'shell', 'xferparams'] as const;
export type TransferFormat = (typeof TRANSFER_FORMATS)[number];

export interface FormatOptions {
  destination: string;
  showSecrets: boolean;
  sshKeyPath?: string;
  /** the route settings a worker would use (WSS, HTTP fallback, proxy) */
  transport?: TransportSettings;
  wssCaFile?: string;
}

export function isTransferFormat(value: string): value is TransferFormat {
  return (TRANSFER_FORMATS as readonly string[]).includes(value);
}

export function formatTransfer(spec: TransferSpec, format: TransferFormat, opts: FormatOptions): string {
  const command = buildAscpCommand(spec, { destination: opts.destination, sshKeyPath: opts.sshKeyPath, transport: opts.transport, wssCaFile: opts.wssCaFile });
  const secret = (value: string | undefined) => (value === undefined || opts.showSecrets ? value : MASK);
  const env = Object.fromEntries(Object.entries(command.env).map(([k, v]) => [k, secret(v) ?? '']));
  const full: TransferSpec & { ssh_private_key_path?: string } = {
    ...downloadSpec(spec, opts.destination),
    token: secret(spec.token),
    cookie: secret(spec.cookie),
  };
  if (opts.sshKeyPath !== undefined && spec.token !== undefined) full.ssh_private_key_path = opts.sshKeyPath;

  switch (format) {
    case 'transfer-spec':
      return JSON.stringify(ordered(full), null, 2);
    case 'ascp':
      return JSON.stringify({ args: command.args, env }, null, 2);
    case 'shell':
      return [...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`), ['ascp', ...command.args.map(shellQuote)].join(' ')].join(' ; ');
    case 'xferparams':
      return JSON.stringify(xferParams(full, opts.destination), null, 2);
  }
}

/**
 * POSIX sh single quoting: inside '…' nothing is special except `'` itself, which is closed,
 * escaped and reopened ('\''). So `$`, backticks, `\`, `!` and newlines all survive as-is.
 */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

// interface.md's field order: connection, paths, secrets, rates, options, local side.
const FIELD_ORDER = [
  'remote_host', 'remote_user', 'ssh_port', 'fasp_port', 'direction', 'paths', 'token', 'cookie',
  'target_rate_kbps', 'min_rate_kbps', 'rate_policy', 'cipher', 'http_fallback', 'http_fallback_port', 'wss_enabled', 'wss_port',
  'create_dir', 'lock_rate_policy', 'lock_min_rate', 'target_rate_cap_kbps', 'sshfp', 'tags',
  'source_root', 'destination_root', 'resume_policy', 'ssh_private_key_path',
];

function ordered(spec: object): Record<string, unknown> {
  const entries = Object.entries(spec).filter(([, v]) => v !== undefined);
  const rank = (k: string) => (FIELD_ORDER.includes(k) ? FIELD_ORDER.indexOf(k) : FIELD_ORDER.length);
  return Object.fromEntries(entries.sort(([a], [b]) => rank(a) - rank(b)));
}

const POLICY: Record<RatePolicy, string> = { low: 'LOW', fair: 'FAIR', high: 'HIGH', fixed: 'FIXED' };
const RESUME: Record<ResumePolicy, string> = { none: 'NONE', attrs: 'FILE_ATTRIBUTES', sparse_csum: 'SPARSE_CHECKSUM', full_csum: 'FULL_CHECKSUM' };

/**
 * FASPManager's view of the transfer: where (RemoteFileLocation + LocalFileLocation) and how
 * (XferParams). Enum values are the Java/.NET constant names (Policy.FAIR, Resume.SPARSE_CHECKSUM,
 * Cipher.AES_128). XferParams names as in the SDK: tcpPort, udpPort, targetRateKbps,
 * minimumRateKbps, policy, cipher, createPath, resumeCheck, token, cookie. Our own names, for
 * settings whose SDK spelling we could not confirm: httpFallback, httpFallbackPort,
 * sshFingerprint, tags64, sshKeyPath, and the location fields.
 */
function xferParams(spec: TransferSpec & { ssh_private_key_path?: string }, destination: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    remoteHost: spec.remote_host,
    remoteUser: spec.remote_user,
    sshKeyPath: spec.ssh_private_key_path,
    sources: spec.paths.map((p) => p.source),
    destination,
    tcpPort: spec.ssh_port,
    udpPort: spec.fasp_port,
    targetRateKbps: spec.target_rate_kbps,
    minimumRateKbps: spec.min_rate_kbps,
    policy: spec.rate_policy && POLICY[spec.rate_policy],
    cipher: spec.cipher && cipherConstant(spec.cipher),
    createPath: spec.create_dir,
    resumeCheck: RESUME[spec.resume_policy ?? 'sparse_csum'],
    httpFallback: spec.http_fallback,
    httpFallbackPort: spec.http_fallback_port,
    sshFingerprint: spec.sshfp,
    tags64: spec.tags === undefined ? undefined : Buffer.from(JSON.stringify(spec.tags), 'utf8').toString('base64'),
    token: spec.token,
    cookie: spec.cookie,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/** aes-128 → AES_128, aes-256-gcm → AES_256_GCM, none → NONE. */
function cipherConstant(cipher: Cipher): string {
  return cipher.toUpperCase().replace(/-/g, '_');
}
