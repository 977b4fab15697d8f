/**
 * The packages page's view model: a BullMQ download job → one row for people (state in words,
 * progress with rate and ETA, the last failure in plain words), and the page's query (filter,
 * search, page) parsed from the URL. Pure, table-driven tests (test/unit/packages-view-model.test.ts).
 * Every string that comes from a job is masked here, before any renderer sees it.
 */
import { maskText } from '../../log/secrets.js';
import type { DownloadJobProgress, DownloadJobResult } from '../../queue/download-processor.js';
import { displayJobName } from '../../queue/job-name.js';
import type { DownloadJobData } from '../../queue/queues.js';

/** BullMQ states as people read them. */
export const SHOWN_STATES = ['waiting', 'downloading', 'retrying', 'done', 'failed'] as const;
export type ShownState = (typeof SHOWN_STATES)[number];

export type BullState = 'waiting' | 'prioritized' | 'active' | 'delayed' | 'completed' | 'failed';

/** Which BullMQ states make up each shown state. */
export const BULL_STATES: Record<ShownState, BullState[]> = {
  waiting: ['waiting', 'prioritized'],
  downloading: ['active'],
  retrying: ['delayed'],
  done: ['completed'],
  failed: ['failed'],
};

export interface JobLike {
  id?: string | undefined;
  name?: string;
  data: Partial<DownloadJobData>;
  progress?: unknown;
  returnvalue?: unknown;
  attemptsMade: number;
  opts: { attempts?: number | undefined };
  failedReason?: string | undefined;
  timestamp: number;
  processedOn?: number | undefined;
  finishedOn?: number | undefined;
}

export interface Failure {
  /** one short sentence: what it means */
  headline: string;
  /** what the service said, masked */
  detail: string;
}

export interface PackageRow {
  id: string;
  title: string;
  sender: string | null;
  /** a Faspex 5 sweep found it (`found by sweep`, with its box) rather than a mail: the mail path may leak */
  foundBySweep: string | null;
  server: string | null;
  arrivedAt: string;
  size: number | null;
  state: ShownState;
  /** e.g. "downloading", "resolving the link", "retrying soon" */
  stateWords: string;
  progress: { bytes: number; total: number | null; percent: number | null; rateBps: number | null; etaSeconds: number | null } | null;
  attempts: number;
  maxAttempts: number;
  failure: Failure | null;
  /** the package folder's full path */
  folder: string | null;
  /** its last segment, the part people recognise */
  folderName: string | null;
  /** may be retried / removed from the page (still subject to read-only mode) */
  canRetry: boolean;
  canRemove: boolean;
}

/** What each error code means for an operator, in one sentence (codes from src/errors.ts). */
const CODE_WORDS: Record<string, string> = {
  LINK_INVALID: 'The link in the mail is not a Faspex package link.',
  LINK_NOT_DOWNLOAD: 'The link is not a download (an upload form or a web page).',
  HOST_NOT_ALLOWED: 'The link points to a server outside FASPEX_ALLOWED_HOSTS.',
  CREDENTIALS_MISSING: 'This kind of link needs Faspex credentials that are not configured.',
  LINK_EXPIRED: 'The link has expired or its passcode is no longer valid.',
  AUTH_FAILED: 'The Faspex server refused the login.',
  FORBIDDEN: 'The Faspex server refused access to this package.',
  NOT_FOUND: 'The Faspex server does not know this package.',
  PACKAGE_DELETED: 'The package was deleted on the Faspex server.',
  REDIRECTED: 'The Faspex server redirected elsewhere instead of answering.',
  BAD_RESPONSE: 'The Faspex server sent an answer that could not be understood.',
  RESPONSE_TOO_LARGE: 'The Faspex server sent far more than a package description.',
  SERVER_ERROR: 'The Faspex server had an error.',
  TIMEOUT: 'The Faspex server did not answer in time.',
  NETWORK: 'The Faspex server could not be reached.',
  TLS: 'The Faspex server\'s certificate was not trusted.',
  ASCP_NOT_FOUND: 'ascp is not installed where the worker looks for it.',
  SSH_KEY_NOT_FOUND: 'The ascp token key is missing.',
  TRANSFER_FAILED: 'The transfer failed.',
  TOKEN_REFUSED: 'The transfer server refused the download token.',
  NO_PROGRESS: 'The transfer stopped making progress.',
  NO_SESSION: 'The transfer server could not be reached over FASP.',
  DISK_FULL: 'DOWNLOAD_DIR is full.',
  HANDOFF_FAILED: 'The package is downloaded; ON_COMPLETE_COMMAND failed on it.',
  CANCELLED: 'The transfer was cancelled.',
  UNSAFE_PATH: 'The package holds a file path that would land outside DOWNLOAD_DIR.',
  NOT_SUPPORTED: 'This kind of package is not supported.',
  INTERNAL: 'The service hit an internal error.',
};

/** "Ann Lee via Faspex <faspex@x>" → "Ann Lee via Faspex"; a bare address stays. Pure. */
export function displayName(from: string | undefined): string | undefined {
  if (!from) return undefined;
  const m = /^\s*"?([^"<]*?)"?\s*<[^>]*>\s*$/.exec(from);
  return m && m[1] ? m[1] : from.replace(/^<|>$/g, '');
}

/** "/data/downloads/fx_7_Q3 rushes" → "fx_7_Q3 rushes": the package folder inside DOWNLOAD_DIR. Pure. */
export function folderName(path: string): string {
  return path.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || path;
}

/** A failed reason as BullMQ stores it ("<message> [CODE]" or a bare message) → plain words. Pure. */
export function failureWords(reason: string | undefined | null): Failure | null {
  const text = (reason ?? '').trim();
  if (!text) return null;
  const m = /^(.*?)\s*\[([A-Z_]+)\]$/s.exec(text);
  const message = maskText(m ? m[1]! : text);
  const code = m?.[2];
  if (code && CODE_WORDS[code]) return { headline: CODE_WORDS[code], detail: message };
  if (/stalled more than allowable limit/i.test(text)) return { headline: 'The worker running it stopped answering too many times (crashed or lost Redis).', detail: message };
  if (/job stalled/i.test(text)) return { headline: 'The worker running it stopped answering.', detail: message };
  return { headline: message.endsWith('.') ? message : `${message}.`, detail: '' };
}

/** Seconds left at the current rate, or null when it cannot be told. Pure. */
export function etaSeconds(bytes: number, total: number | null | undefined, rateBps: number | null | undefined): number | null {
  if (total && bytes >= total) return 0;
  if (!total || !rateBps || rateBps <= 0) return null;
  return Math.ceil((total - bytes) / rateBps);
}

function asProgress(p: unknown): Partial<DownloadJobProgress> {
  return p && typeof p === 'object' ? (p as Partial<DownloadJobProgress>) : {};
}

function asResult(r: unknown): Partial<DownloadJobResult> {
  return r && typeof r === 'object' ? (r as Partial<DownloadJobResult>) : {};
}

function shownState(state: BullState): ShownState {
  return (Object.keys(BULL_STATES) as ShownState[]).find((s) => BULL_STATES[s].includes(state))!;
}

/** One job as a row. Pure. */
export function packageRow(job: JobLike, state: BullState): PackageRow {
  const progress = asProgress(job.progress);
  const result = asResult(job.returnvalue);
  const shown = shownState(state);
  const mask = (s: string | undefined | null) => (s ? maskText(s) : null);
  const total = progress.total ?? (shown === 'done' ? (result.bytesTransferred ?? null) : null);
  const running = shown === 'downloading' && progress.phase === 'transferring';
  const bytes = progress.bytes ?? 0;
  const handoff = shown === 'done' ? progress.handoff : undefined;
  const stateWords =
    shown === 'downloading' ? (progress.phase === 'transferring' ? 'downloading' : progress.phase === 'waiting' && progress.waitingFor ? maskText(progress.waitingFor) : 'resolving the link')
    // a wait (over a transfer cap, no disk space) is no failure: say what it waits for
    : shown === 'retrying' ? (progress.phase === 'waiting' ? (progress.waitingFor ? maskText(progress.waitingFor) : 'waiting') : 'retrying soon')
    : shown === 'done' ? doneWords(result.alreadyComplete === true, handoff)
    : shown;
  return {
    id: job.id ?? '',
    title: displayJobName(job),
    sender: mask(progress.sender ?? displayName(job.data.source?.from)),
    foundBySweep: job.data.source?.type === 'sweep' ? mask(`found by sweep${job.data.source.box ? ` (${job.data.source.box})` : ''}`) : null,
    server: mask(job.data.server),
    arrivedAt: job.data.queuedAt ?? new Date(job.timestamp).toISOString(),
    size: total ?? null,
    state: shown,
    stateWords,
    progress: running
      ? { bytes, total: total ?? null, percent: total ? Math.min(100, Math.floor((bytes / total) * 100)) : null, rateBps: progress.rateBps ?? null, etaSeconds: etaSeconds(bytes, total, progress.rateBps) }
      : null,
    attempts: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    failure: shown === 'done' ? (handoff?.state === 'failed' ? failureWords(handoff.reason) : null) : failureWords(job.failedReason),
    folder: mask(result.folder ?? progress.folder),
    folderName: mask(result.folder ?? progress.folder ? folderName((result.folder ?? progress.folder)!) : null),
    canRetry: shown === 'failed',
    canRemove: shown !== 'downloading',
  };
}

/** A complete package's words, with its hand-off (ON_COMPLETE_COMMAND) when there is one. Pure. */
function doneWords(alreadyComplete: boolean, handoff: DownloadJobProgress['handoff']): string {
  if (handoff?.state === 'failed') return handoff.final === false ? 'downloaded, hand-off failed (retrying)' : 'downloaded, hand-off failed';
  if (handoff?.state === 'pending' || handoff?.state === 'running') return 'downloaded, handing off';
  return alreadyComplete ? 'done (was already on disk)' : 'done';
}

export interface PageQuery {
  /** shown states to include; empty = all */
  show: ShownState[];
  server: string | null;
  search: string | null;
  page: number;
  perPage: number;
}

const PER_PAGE = 25;

/**
 * The page's URL query → PageQuery. Parameter names avoid those the masking treats as secret
 * (`state`, `token`, `code`, …), since the rendered page is masked as a whole. Pure.
 */
export function parsePageQuery(q: Record<string, unknown>): PageQuery {
  const one = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const list = (v: unknown) => (Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : []).map(String);
  const show = list(q.show).filter((s): s is ShownState => (SHOWN_STATES as readonly string[]).includes(s));
  const text = (v: unknown) => {
    const s = typeof one(v) === 'string' ? (one(v) as string).trim().slice(0, 200) : '';
    return s === '' ? null : s;
  };
  const page = Number(one(q.page));
  return { show: [...new Set(show)], server: text(q.server), search: text(q.q), page: Number.isInteger(page) && page > 0 ? page : 1, perPage: PER_PAGE };
}

/** The query as a URL search string (for links that keep the filters), without defaults. Pure. */
export function queryString(q: PageQuery, overrides: Partial<PageQuery> = {}): string {
  const v = { ...q, ...overrides };
  const p = new URLSearchParams();
  if (v.show.length) p.set('show', v.show.join(','));
  if (v.server) p.set('server', v.server);
  if (v.search) p.set('q', v.search);
  if (v.page > 1) p.set('page', String(v.page));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Filter by server and search (title or sender, case-insensitive), newest first. Pure. */
export function selectRows(rows: readonly PackageRow[], q: PageQuery): { rows: PackageRow[]; total: number; pages: number; page: number } {
  const needle = q.search?.toLowerCase();
  const matched = rows
    .filter((r) => (q.show.length ? q.show.includes(r.state) : true))
    .filter((r) => (q.server ? r.server === q.server : true))
    .filter((r) => (needle ? r.title.toLowerCase().includes(needle) || (r.sender ?? '').toLowerCase().includes(needle) : true))
    .sort((a, b) => (a.arrivedAt < b.arrivedAt ? 1 : a.arrivedAt > b.arrivedAt ? -1 : a.id.localeCompare(b.id)));
  const pages = Math.max(1, Math.ceil(matched.length / q.perPage));
  const page = Math.min(q.page, pages);
  return { rows: matched.slice((page - 1) * q.perPage, page * q.perPage), total: matched.length, pages, page };
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/**
 * 1536 → "1.5 KB". Binary multiples like src/ascp/units.ts (which `status` and the CLI print as
 * "1.5 KiB"), but with the page's short unit names and "—" for unknown. Pure.
 */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[i]}`;
}

/** bytes per second → "12 MB/s". Pure. */
export function formatRate(bps: number | null | undefined): string {
  return bps ? `${formatBytes(bps)}/s` : '—';
}

/** 3725 → "1 h 2 min"; 42 → "42 s". Pure. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60 ? `${s % 60} s` : ''}`.trim();
  const h = Math.floor(s / 3600);
  if (h < 48) return `${h} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** An instant, relative to now, for people: "just now", "5 min ago", "3 h ago", or the date. Pure. */
export function formatAgo(iso: string | undefined | null, now: Date): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '—';
  const s = Math.round((now.getTime() - t) / 1000);
  if (s < 10) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return iso.slice(0, 10);
}
