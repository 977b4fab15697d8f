/**
 * TransferSpec → `ascp` argv + environment for a download (faspex-protocol.md §5).
 *
 * Option order: ascli's (front: -M, -q, -i or --ws-connect; then the transferSpec schema's order):
 *   -M PORT  -q  -i KEY | --ws-connect [-i CA]  [-x PROXY]
 *   -c CIPHER  -d  --mode recv  -O UDP  -y 0|1|F  -t HTTPPORT  --policy P  --host H  --user U
 *   -k N  --source-prefix64 B64  -P SSH|WSS  --tags64 B64  -l KBPS  -m KBPS  --check-sshfp FP
 *   SOURCE...  DESTINATION
 * The route (SSH + UDP, WSS, HTTP fallback, proxy) is planTransport's (transport.ts). With WSS,
 * as in ascli, -P is the WSS port, -O and --check-sshfp do not apply, and -i names the CA
 * certificates for the WSS TLS instead of the SSH key (token auth needs no key there).
 * Every option with a value is two argv elements. Sources are positional (not ascli's
 * --file-list temp file: that would be I/O) and the destination is plain and last (not
 * --dest64), which is standard `ascp options SRC... DEST` syntax.
 *
 * Secrets never reach argv, where any local user could read them in the process list:
 * token → ASPERA_SCP_TOKEN, cookie → ASPERA_SCP_COOKIE, decryption passphrase → ASPERA_SCP_FILEPASS.
 *
 * After the transfer-spec options, what this worker adds (issue 22): `--file-crypt=decrypt` with
 * `--fail-bad-filepass` (a wrong passphrase fails the session with code 49 instead of leaving the
 * files encrypted), `--file-checksum=sha-256` (each file's SHA-256 on the management port), and
 * `--file-pair-list=FILE` in place of the sources for a filtered download (pairs keep each file's
 * place in the package, which a plain --file-list would flatten).
 *
 * Not passed: target_rate_cap_kbps, lock_rate_policy, lock_min_rate (a local ascp has no such
 * options; the server enforces them). ascli's -Y/-I fallback key pair and its tags.aspera.xfer_id
 * are not added: the first is for serving HTTP fallback, the second is agent bookkeeping.
 */
import { permanent } from '../errors.js';
import { registerSecret } from '../log/secrets.js';
import type { ResumePolicy, TransferSpec } from './transfer-spec.js';
import { planTransport, type TransportSettings } from './transport.js';

export interface AscpCommandOptions {
  /** the local folder the package lands in; an absolute path */
  destination: string;
  /** private key for token-authorised SSH (the "bypass" key); used only when the spec has a token */
  sshKeyPath?: string;
  /** `-M`: ascp connects to this local TCP port and reports progress there */
  managementPort?: number;
  /** `-q`: no progress bar on ascp's stdout (progress comes from the management port) */
  quiet?: boolean;
  /** ASCP_WSS, ASCP_HTTP_FALLBACK, the proxy; default: WSS when offered, fallback as the spec says */
  transport?: TransportSettings;
  /** with WSS: CA certificates (PEM) ascp trusts for the WebSocket TLS (FASPEX_CA_FILE) */
  wssCaFile?: string;
  /** decrypt while receiving, with this passphrase (environment only) */
  decryptPassphrase?: string;
  /** ascp reports each file's checksum with this hash on the management port */
  fileChecksum?: 'sha-256';
  /** a file of alternating source / destination lines, instead of the spec's sources */
  filePairList?: string;
}

export interface AscpCommand {
  /** argv without the program name */
  args: string[];
  /** extra environment for the child process only */
  env: Record<string, string>;
}

const RESUME_LEVEL: Record<ResumePolicy, string> = { none: '0', attrs: '1', sparse_csum: '2', full_csum: '3' };

/**
 * The spec as it will be run for a download into `destination`, with ascli's download defaults
 * merged over what the server sent (a user value overrides the server's, as in ascli):
 *  - create_dir: true. Without -d, a single source and a missing destination make ascp write the
 *    source *as* the destination path (a file named like the folder, or a renamed folder); with
 *    it, the destination is always a folder that the package lands inside.
 *  - resume_policy: the spec's, else sparse_csum, so a retried download resumes instead of
 *    starting over.
 */
export function downloadSpec(spec: TransferSpec, destination: string): TransferSpec {
  return { ...spec, create_dir: true, resume_policy: spec.resume_policy ?? 'sparse_csum', destination_root: destination };
}

export function buildAscpCommand(spec: TransferSpec, opts: AscpCommandOptions): AscpCommand {
  if (spec.direction !== 'receive') throw permanent('LINK_NOT_DOWNLOAD', 'this transfer spec is an upload (direction send), not a download');
  checkDestination(opts.destination);
  const sources = checkSources(spec);
  const s = downloadSpec(spec, opts.destination);
  const plan = planTransport(s, opts.transport);
  const wss = plan.session === 'wss';

  const args: string[] = [];
  const opt = (flag: string, value: string | number | undefined) => {
    if (value !== undefined) args.push(flag, String(value));
  };

  if (opts.managementPort !== undefined) {
    if (!Number.isInteger(opts.managementPort) || opts.managementPort < 1 || opts.managementPort > 65535) {
      throw permanent('INTERNAL', `management port must be from 1 to 65535, got ${String(opts.managementPort)}`);
    }
    opt('-M', opts.managementPort);
  }
  if (opts.quiet) args.push('-q');
  if (wss) {
    args.push('--ws-connect');
    opt('-i', opts.wssCaFile);
  } else if (opts.sshKeyPath !== undefined && s.token !== undefined) opt('-i', opts.sshKeyPath);
  opt('-x', plan.proxy);

  opt('-c', s.cipher?.replace(/-/g, ''));
  if (s.create_dir) args.push('-d');
  opt('--mode', 'recv');
  opt('-O', plan.udpPort === undefined ? undefined : port(plan.udpPort, 'fasp_port'));
  opt('-y', plan.httpFallback);
  opt('-t', plan.httpFallbackPort === undefined ? undefined : port(plan.httpFallbackPort, 'http_fallback_port'));
  opt('--policy', s.rate_policy);
  opt('--host', s.remote_host);
  opt('--user', s.remote_user);
  opt('-k', RESUME_LEVEL[s.resume_policy ?? 'sparse_csum']);
  opt('--source-prefix64', s.source_root === undefined ? undefined : base64(s.source_root));
  opt('-P', plan.tcpPort === undefined ? undefined : port(plan.tcpPort, wss ? 'wss_port' : 'ssh_port'));
  opt('--tags64', s.tags === undefined ? undefined : base64(JSON.stringify(s.tags)));
  opt('-l', s.target_rate_kbps === undefined ? undefined : count(s.target_rate_kbps, 'target_rate_kbps'));
  opt('-m', s.min_rate_kbps === undefined ? undefined : count(s.min_rate_kbps, 'min_rate_kbps'));
  if (!wss) opt('--check-sshfp', s.sshfp);
  if (opts.decryptPassphrase !== undefined) args.push('--file-crypt=decrypt', '--fail-bad-filepass');
  if (opts.fileChecksum !== undefined) args.push(`--file-checksum=${opts.fileChecksum}`);
  if (opts.filePairList !== undefined) {
    checkDestination(opts.filePairList);
    args.push(`--file-pair-list=${opts.filePairList}`, opts.destination);
  } else args.push(...sources, opts.destination);

  const env: Record<string, string> = {};
  if (s.token !== undefined) {
    registerSecret(s.token);
    env.ASPERA_SCP_TOKEN = s.token;
  }
  if (s.cookie !== undefined) {
    registerSecret(s.cookie);
    env.ASPERA_SCP_COOKIE = s.cookie;
  }
  if (opts.decryptPassphrase !== undefined) {
    if (opts.decryptPassphrase === '') throw permanent('CONFIG', 'the decryption passphrase is empty');
    registerSecret(opts.decryptPassphrase);
    env.ASPERA_SCP_FILEPASS = opts.decryptPassphrase;
  }
  return { args, env };
}

/**
 * A source that starts with `-` would be read by ascp as an option: a hostile server could
 * smuggle in e.g. `--overwrite=always` or `--remove-after-transfer`. ascp documents no `--`
 * end-of-options marker, so the only safe answer is to refuse.
 */
function checkSources(spec: TransferSpec): string[] {
  if (spec.paths.length === 0) throw permanent('LINK_INVALID', 'the transfer spec has no source path');
  return spec.paths.map(({ source, destination }) => {
    if (source === '') throw permanent('UNSAFE_PATH', 'a source path is empty');
    if (source.startsWith('-')) throw permanent('UNSAFE_PATH', `source path "${clip(source)}" starts with "-" and would be read as an ascp option`);
    if (source.includes('\0')) throw permanent('UNSAFE_PATH', 'a source path contains a NUL character');
    // Positional sources cannot carry a per-file destination (that needs --file-pair-list).
    if (destination !== undefined) throw permanent('UNSAFE_PATH', `source path "${clip(source)}" has its own destination, which is not supported`);
    return source;
  });
}

function checkDestination(destination: string): void {
  if (destination === '') throw permanent('UNSAFE_PATH', 'the destination folder is empty');
  if (destination.startsWith('-')) throw permanent('UNSAFE_PATH', `destination "${clip(destination)}" starts with "-" and would be read as an ascp option; pass an absolute path`);
  if (destination.includes('\0')) throw permanent('UNSAFE_PATH', 'the destination contains a NUL character');
}

function port(n: number, field: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw permanent('LINK_INVALID', `${field} must be a port number from 1 to 65535, got ${String(n)}`);
  return n;
}

function count(n: number, field: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw permanent('LINK_INVALID', `${field} must be a whole number, 0 or more, got ${String(n)}`);
  return n;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
