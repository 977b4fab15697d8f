/**
 * Runs ascp once for one transfer spec and turns whatever happens into a result or an
 * IngestError. The shell around the pure parts: management server, child process, timers.
 *
 * - argv comes from buildAscpCommand, run without a shell; the token and cookie travel only in
 *   the child's environment, never argv (any local user can read a process's argv).
 * - success = exit status 0 AND a last management event DONE (progress.ts decideOutcome).
 * - no management connection in time, or a session stuck after INIT → NO_SESSION (ports hint);
 *   no progress for the stall time → NO_PROGRESS; both stop ascp and are transient.
 * - cancellation: SIGINT first (ascp ends its session cleanly and keeps partial files), SIGKILL
 *   after a grace period; this function returns only once the process is gone.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../log/logger.js';
import { IngestError } from '../errors.js';
import { buildAscpCommand } from '../fasp/ascp-command.js';
import type { TransferSpec } from '../fasp/transfer-spec.js';
import { planTransport, type TransportSettings } from '../fasp/transport.js';
import { maskText, registerSecret } from '../log/secrets.js';
import type { AscpInstallation } from './locate.js';
import { type MgmtEvent, intField } from './management.js';
import { startMgmtServer } from './mgmt-server.js';
import { trackTransfer } from './running-transfers.js';
import { applyEvent, decideOutcome, initialProgress, type ProgressState, type StopReason } from './progress.js';
import { formatBytes } from './units.js';

export interface AscpTiming {
  /** ascp must connect to the management port within this (ascli waits 2 s) */
  connectTimeoutMs?: number;
  /** after connecting, the session must start moving data within this */
  sessionStartMs?: number;
  /** after SIGINT, this long before SIGKILL */
  graceMs?: number;
}

export interface RunAscpOptions {
  ascp: AscpInstallation;
  spec: TransferSpec;
  destination: string;
  stallMs: number;
  signal?: AbortSignal;
  onProgress?: (p: ProgressState) => void;
  onLog?: (line: string) => void;
  logger?: Logger;
  timing?: AscpTiming;
  /** ASCP_WSS / ASCP_HTTP_FALLBACK / proxy (config.downloads.transport) */
  transport?: TransportSettings;
  /** CA certificates ascp trusts for WSS (FASPEX_CA_FILE) */
  wssCaFile?: string;
  /** decrypt while receiving (ASPERA_SCP_FILEPASS, never argv) */
  decryptPassphrase?: string;
  /** only these files, each to its destination under `destination` (--file-pair-list) */
  pairs?: ReadonlyArray<{ source: string; destination: string }>;
}

export interface AscpRunResult {
  progress: ProgressState;
  pid: number | undefined;
  /** SHA-256 (hex) per file as ascp reported it (--file-checksum), keyed by the STOP event's File */
  checksums: Map<string, string>;
}

const DIAGNOSTICS_MAX = 8 * 1024;
const DEFAULTS = { connectTimeoutMs: 5_000, sessionStartMs: 60_000, graceMs: 5_000 };

export async function runAscp(o: RunAscpOptions): Promise<AscpRunResult> {
  const timing = { ...DEFAULTS, ...o.timing };
  const log = (line: string) => o.onLog?.(maskText(line));
  if (o.signal?.aborted) throw new IngestError('CANCELLED', 'the download was cancelled before ascp started', { retry: 'later' });
  registerSecret(o.spec.token);
  registerSecret(o.spec.cookie);

  let progress = initialProgress(Date.now());
  const checksums = new Map<string, string>();
  let sessionMoving = false;
  let connectedAt: number | undefined;
  let stopReason: StopReason | undefined;
  let protocolError: string | undefined;
  const stopper = new AbortController();
  const stop = (reason: StopReason) => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    stopper.abort();
  };

  const mgmt = await startMgmtServer({
    onConnect: () => {
      connectedAt = Date.now();
      log('ascp connected to its management port');
    },
    onEvent: (event) => {
      if (!sessionMoving && ['STATS', 'STOP', 'DONE', 'ERROR', 'FILEERROR'].includes(event.type)) {
        sessionMoving = true;
        progress = { ...progress, lastProgressAt: Date.now() };
      }
      progress = applyEvent(progress, event, Date.now());
      const sum = event.type === 'STOP' ? reportedSha256(event) : undefined;
      if (sum) checksums.set(event.fields.File!, sum);
      const line = describeEvent(event);
      if (line) log(line);
      if (['STATS', 'STOP', 'DONE', 'NOTIFICATION'].includes(event.type)) o.onProgress?.(progress);
    },
    onProtocolError: (message) => {
      protocolError = message;
      stop('protocol');
    },
  });

  const timers: NodeJS.Timeout[] = [];
  const onAbort = () => stop('cancelled');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let diagnostics = '';
  let pid: number | undefined;
  let listDir: string | undefined;
  try {
    // -k 2 always: a retry resumes what earlier attempts left on disk instead of starting over.
    const spec: TransferSpec = { ...o.spec, resume_policy: 'sparse_csum', create_dir: true };
    let filePairList: string | undefined;
    if (o.pairs) {
      // outside the package folder (it is no package file), readable by this user only
      listDir = await mkdtemp(join(tmpdir(), 'faspex-ingest-list-'));
      filePairList = join(listDir, 'pairs');
      await writeFile(filePairList, o.pairs.map((p) => `${p.source}\n${p.destination}`).join('\n'), { mode: 0o600 });
    }
    const cmd = buildAscpCommand(spec, {
      destination: o.destination, sshKeyPath: o.ascp.sshKeyPath, managementPort: mgmt.port, quiet: false, transport: o.transport, wssCaFile: o.wssCaFile,
      decryptPassphrase: o.decryptPassphrase, fileChecksum: 'sha-256', filePairList,
    });
    const child = execa(o.ascp.path, cmd.args, {
      env: { ...process.env, ...cmd.env },
      extendEnv: false,
      stdin: 'ignore',
      buffer: false,
      reject: false,
      cancelSignal: stopper.signal,
      killSignal: 'SIGINT',
      forceKillAfterDelay: timing.graceMs,
    });
    pid = child.pid;
    // untracked when it has really exited, never earlier: a stale pid could be reused by another process
    if (pid !== undefined) child.once('exit', trackTransfer(pid));
    o.logger?.debug({ pid, args: cmd.args, envNames: Object.keys(cmd.env) }, 'ascp started');
    log(`ascp started (pid ${pid ?? '?'})`);

    let lineBuffer = '';
    const onText = (chunk: Buffer | string) => {
      const text = chunk.toString();
      diagnostics = (diagnostics + text).slice(-DIAGNOSTICS_MAX);
      lineBuffer += text;
      const lines = lineBuffer.split('\n');
      lineBuffer = lines.pop() ?? '';
      for (const raw of lines) {
        // ascp redraws its progress bar with CR; only finished lines are worth reading.
        const line = raw.split('\r').at(-1)!.trim();
        if (line && !/\d+%\s/.test(line)) log(`ascp: ${line}`);
      }
    };
    child.stdout?.on('data', onText);
    child.stderr?.on('data', onText);

    timers.push(setTimeout(() => !mgmt.connected() && stop('no-connection'), timing.connectTimeoutMs));
    // Checked often enough that a limit is overrun by at most a quarter of itself (and ≤ 1 s).
    const tick = Math.max(25, Math.min(1000, Math.floor(Math.min(o.stallMs, timing.sessionStartMs) / 4)));
    timers.push(setInterval(() => {
      const now = Date.now();
      if (connectedAt === undefined) return;
      if (!sessionMoving && now - connectedAt > timing.sessionStartMs) stop('no-session');
      if (sessionMoving && now - progress.lastProgressAt > o.stallMs) stop('stalled');
    }, tick));

    const result = await child;
    // ascp closes the socket before it exits; the last bytes may still be on their way.
    await Promise.race([mgmt.closed(), new Promise((r) => timers.push(setTimeout(r, 1_000)))]);
    const exitCode = typeof result.exitCode === 'number' ? result.exitCode : undefined;
    const signal = typeof result.signal === 'string' ? result.signal : undefined;
    if (exitCode === undefined && signal === undefined && stopReason === undefined) {
      // It never ran (missing, not executable, wrong architecture): not a transfer problem.
      const why = 'originalMessage' in result && typeof result.originalMessage === 'string' ? result.originalMessage : 'unknown reason';
      throw new IngestError('ASCP_NOT_FOUND', `ascp (${o.ascp.path}) could not be started: ${why}`, { retry: 'never' });
    }
    const outcome = decideOutcome({
      lastEvent: mgmt.parser.lastEvent,
      eventCount: mgmt.parser.eventCount,
      connected: mgmt.connected(),
      exitCode,
      signal,
      stopReason,
      diagnostics: maskText(diagnostics),
      network: { host: o.spec.remote_host, sshPort: o.spec.ssh_port ?? 33001, faspPort: o.spec.fasp_port ?? 33001, plan: planTransport(spec, o.transport) },
      stallSeconds: Math.round(o.stallMs / 100) / 10,
      protocolError,
    });
    if (!outcome.ok) {
      o.logger?.info({ pid, code: outcome.code, exitCode, signal, diagnostics: maskText(diagnostics.slice(-2000)) }, 'ascp failed');
      throw new IngestError(outcome.code, outcome.message, { retry: outcome.retry, details: { ...outcome.details, pid } });
    }
    return { progress, pid, checksums };
  } finally {
    for (const t of timers) clearTimeout(t);
    o.signal?.removeEventListener('abort', onAbort);
    mgmt.close();
    if (listDir) await rm(listDir, { recursive: true, force: true });
  }
}

/** A STOP event's FileChecksum, when it is a SHA-256 in hex (FileChecksumType says which hash). */
function reportedSha256(event: MgmtEvent): string | undefined {
  const sum = event.fields.FileChecksum?.trim().toLowerCase();
  const type = event.fields.FileChecksumType?.trim().toLowerCase().replace(/[-_]/g, '');
  if (!sum || !event.fields.File || (type !== undefined && type !== 'sha256')) return undefined;
  return /^[0-9a-f]{64}$/.test(sum) ? sum : undefined;
}

function describeEvent(event: MgmtEvent): string | undefined {
  const f = event.fields;
  switch (event.type) {
    case 'INIT': return 'transfer session starting';
    case 'NOTIFICATION': {
      const total = intField(event, 'PreTransferBytes');
      return total === undefined ? undefined : `package size ${formatBytes(total)}`;
    }
    case 'STOP': {
      const size = intField(event, 'Size');
      const start = intField(event, 'StartByte') ?? 0;
      return `file done: ${f.File ?? '?'}${size === undefined ? '' : ` (${formatBytes(size)}${start > 0 ? `, resumed at ${formatBytes(start)}` : ''})`}`;
    }
    case 'FILEERROR': return `file failed: ${f.File ?? '?'}: ${f.Description ?? ''}`;
    case 'ERROR': return `ascp error ${f.Code ?? '?'}: ${f.Description ?? ''}`;
    case 'DONE': {
      const sent = intField(event, 'TransferBytes');
      return `transfer done${sent === undefined ? '' : `: ${formatBytes(sent)} transferred`}`;
    }
    default: return undefined;
  }
}
