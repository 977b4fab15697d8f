/**
 * Management events → progress, and the end of a run → one decision (faspex-protocol.md §6.2).
 * Pure: the runner supplies events, clock readings and the exit status.
 *
 * Outcome rule (ascli's, plus what a worker needs to act on):
 *  - success needs BOTH a last event DONE and exit status 0: either alone is not proof;
 *  - a last event ERROR carries ascp's code and description → the §6.4 table decides;
 *  - a session that never got past INIT is a network problem (issue #139: SSH port blocked);
 *  - anything else is a transient failure with whatever ascp printed as diagnostics.
 */
import type { ErrorCode, RetryDecision } from '../errors.js';
import { describePaths, unblockAdvice, type TransportPlan } from '../fasp/transport.js';
import { decideAscpError } from './error-codes.js';
import { intField, type MgmtEvent } from './management.js';

export interface ProgressState {
  sessionStarted: boolean;
  sessionId?: string;
  /** bytes of the whole package (PreTransferBytes), when ascp pre-calculated it */
  total?: number;
  /** bytes on disk for this package: transferred now + already there (StartByte) */
  bytesDone: number;
  /** bytes that crossed the network in this run */
  bytesTransferred: number;
  /** bytes that were already on disk when this run started (resumed or skipped) */
  startByte: number;
  rateBps?: number;
  file?: string;
  filesDone: number;
  fileErrors: string[];
  /** when bytesDone last grew (ms): the stall watchdog reads it */
  lastProgressAt: number;
  rateSample?: { at: number; bytes: number };
}

export function initialProgress(now: number): ProgressState {
  return { sessionStarted: false, bytesDone: 0, bytesTransferred: 0, startByte: 0, filesDone: 0, fileErrors: [], lastProgressAt: now };
}

/** Rate is smoothed over samples at least this far apart, so one burst does not swing it. */
const RATE_WINDOW_MS = 500;

export function applyEvent(state: ProgressState, event: MgmtEvent, now: number): ProgressState {
  const s: ProgressState = { ...state };
  switch (event.type) {
    case 'INIT':
      s.sessionStarted = true;
      s.sessionId = event.fields.SessionId ?? s.sessionId;
      return s;
    case 'NOTIFICATION': {
      const pre = intField(event, 'PreTransferBytes');
      if (pre !== undefined) s.total = pre;
      return s;
    }
    case 'STATS':
    case 'DONE': {
      const transferred = intField(event, 'TransferBytes');
      const start = intField(event, 'StartByte');
      if (transferred !== undefined) s.bytesTransferred = Math.max(s.bytesTransferred, transferred);
      if (start !== undefined) s.startByte = Math.max(s.startByte, start);
      const done = event.type === 'DONE' ? (intField(event, 'FileBytes') ?? s.bytesTransferred + s.startByte) : s.bytesTransferred + s.startByte;
      advance(s, done, now);
      if (event.fields.File) s.file = event.fields.File;
      if (event.type === 'DONE' && s.total === undefined) s.total = s.bytesDone;
      return s;
    }
    case 'STOP':
      s.filesDone += 1;
      if (event.fields.File) s.file = event.fields.File;
      // A file that finishes, even one skipped as already complete, is progress.
      s.lastProgressAt = now;
      return s;
    case 'FILEERROR':
      s.fileErrors = [...s.fileErrors, `${event.fields.File ?? 'a file'}: ${event.fields.Description ?? 'failed'}`];
      return s;
    default:
      return s;
  }
}

function advance(s: ProgressState, done: number, now: number): void {
  if (done > s.bytesDone) {
    s.bytesDone = done;
    s.lastProgressAt = now;
  }
  const sample = s.rateSample;
  if (!sample) {
    s.rateSample = { at: now, bytes: s.bytesTransferred };
  } else if (now - sample.at >= RATE_WINDOW_MS) {
    const instant = ((s.bytesTransferred - sample.bytes) * 1000) / (now - sample.at);
    s.rateBps = Math.max(0, Math.round(s.rateBps === undefined ? instant : 0.5 * s.rateBps + 0.5 * instant));
    s.rateSample = { at: now, bytes: s.bytesTransferred };
  }
}

/** Why the runner stopped ascp itself, if it did. */
export type StopReason = 'cancelled' | 'stalled' | 'no-connection' | 'no-session' | 'protocol';

export interface RunEnd {
  lastEvent: MgmtEvent | undefined;
  eventCount: number;
  connected: boolean;
  exitCode: number | undefined;
  signal: string | undefined;
  stopReason: StopReason | undefined;
  /** masked tail of ascp's stdout/stderr */
  diagnostics: string;
  /** where the session goes, for the firewall hint; `plan`: the way ascp was told to go */
  network: { host: string; sshPort: number; faspPort: number; plan?: TransportPlan };
  stallSeconds: number;
  protocolError?: string;
}

export type Outcome =
  | { ok: true }
  | { ok: false; code: ErrorCode; retry: RetryDecision; message: string; details: Record<string, unknown> };

export function portsHint(n: RunEnd['network']): string {
  if (n.plan) return `check that this machine can reach the transfer server: ${describePaths(n.plan, n.host)}; firewalls often block it (${unblockAdvice(n.plan, n.host)})`;
  return `check that this machine can reach ${n.host} on TCP port ${n.sshPort} (SSH) and UDP port ${n.faspPort} (FASP); firewalls often block them`;
}

/** ascp's codes for "could not connect": SSH (12, 13), UDP (14, 15, 44), HTTP fallback (47). */
const BLOCKED_CODES = new Set([12, 13, 14, 15, 44, 47]);

export function decideOutcome(end: RunEnd): Outcome {
  const details: Record<string, unknown> = { exitCode: end.exitCode, signal: end.signal, lastEvent: end.lastEvent?.type };
  const fail = (code: ErrorCode, retry: RetryDecision, message: string, extra: Record<string, unknown> = {}): Outcome => ({
    ok: false, code, retry, message: withDiagnostics(message, end.diagnostics), details: { ...details, ...extra },
  });
  const last = end.lastEvent;

  switch (end.stopReason) {
    // A cancelled transfer keeps its partial files: whoever runs it again resumes.
    case 'cancelled': return fail('CANCELLED', 'later', 'the download was cancelled; partial files are kept for a resume');
    case 'stalled': return fail('NO_PROGRESS', 'later', `no progress for ${end.stallSeconds} s, so ascp was stopped; partial files are kept for a resume`);
    case 'no-connection': return fail('NO_SESSION', 'later', `ascp did not report on its management port, so no transfer session started; ${portsHint(end.network)}`);
    case 'no-session': return fail('NO_SESSION', 'later', `ascp started but the transfer session never began; ${portsHint(end.network)}`);
    case 'protocol': return fail('TRANSFER_FAILED', 'later', `ascp's management output could not be read (${end.protocolError ?? 'not FASPMGR 2'}); ascp was stopped`);
    case undefined: break;
  }

  if (last?.type === 'DONE' && end.exitCode === 0) return { ok: true };
  if (last?.type === 'ERROR') {
    const code = intField(last, 'Code') ?? 0;
    const d = decideAscpError(code, last.fields.Description);
    if (BLOCKED_CODES.has(code) && d.errorCode === 'TRANSFER_FAILED' && d.retry === 'later') {
      // Every path this run was allowed to take failed to connect: say which, and what is left.
      const n = end.network;
      const tried = n.plan ? describePaths(n.plan, n.host) : `SSH to ${n.host}:${n.sshPort} (TCP), data on UDP ${n.faspPort}`;
      const advice = n.plan ? unblockAdvice(n.plan, n.host) : `ask for TCP ${n.sshPort} and UDP ${n.faspPort} to ${n.host} to be opened`;
      return fail('TRANSFER_BLOCKED', 'later', `ascp could not get through to the transfer server ${n.host} (tried ${tried}); a firewall most likely blocks it: ${advice}; ${d.message}`,
        { ascpCode: code, ascpError: d.info.name, session: n.plan?.session ?? 'ssh' });
    }
    return fail(d.errorCode, d.retry, d.message, { ascpCode: code, ascpError: d.info.name });
  }
  // Someone else (a terminal's Ctrl-C reaches the whole process group) interrupted ascp.
  if (end.signal === 'SIGINT' || end.signal === 'SIGTERM') return fail('CANCELLED', 'later', `ascp was stopped by ${end.signal}; partial files are kept for a resume`);
  if (!end.connected || end.eventCount === 0) {
    return fail('NO_SESSION', 'later', `ascp ${exitWords(end)} without a management event, so no transfer session started; ${portsHint(end.network)}`);
  }
  if (last?.type === 'INIT' || last?.type === 'NOTIFICATION' || last?.type === 'SESSION') {
    return fail('NO_SESSION', 'later', `ascp ${exitWords(end)} right after the session started (last event ${last.type}); ${portsHint(end.network)}`);
  }
  if (last?.type === 'DONE') return fail('TRANSFER_FAILED', 'later', `ascp reported completion but ${exitWords(end)}`);
  return fail('TRANSFER_FAILED', 'later', `ascp ${exitWords(end)} without reporting completion (last event ${last?.type || 'none'})`);
}

function exitWords(end: RunEnd): string {
  if (end.signal) return `was killed by ${end.signal}`;
  if (end.exitCode === undefined) return 'ended';
  return `exited with status ${end.exitCode}`;
}

function withDiagnostics(message: string, diagnostics: string): string {
  const last = lastMeaningfulLine(diagnostics);
  if (!last || message.includes(last)) return message;
  // "Session Stop (Error: X)" adds nothing when the management event already gave X
  const said = /\(Error: (.*)\)\s*$/.exec(last)?.[1];
  return said && message.includes(said) ? message : `${message}; ascp said: ${last}`;
}

/** The most telling line of ascp's text output: a "Session Stop (Error: …)" if there is one. */
export function lastMeaningfulLine(text: string): string | undefined {
  const lines = text.split(/[\r\n]+/).map((l) => l.trim()).filter((l) => l !== '');
  const stop = [...lines].reverse().find((l) => /session stop|error|failed|fatal/i.test(l));
  const line = stop ?? lines.at(-1);
  return line === undefined ? undefined : line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
