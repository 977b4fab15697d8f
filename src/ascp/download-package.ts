/**
 * One package, from link to finished folder: manifest check → resolve → folder → decryption and
 * file plan → ascp → containment check → verification and checksums → manifest. `downloadPackage` is ONE attempt (the BullMQ worker owns its
 * retries); `downloadWithRetries` is the loop for the CLI, with the same retry contract.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../config/config.js';
import { asIngestError, IngestError, retryDelayMs } from '../errors.js';
import type { PackageLink } from '../faspex/link.js';
import type { PackageResolver } from '../faspex/resolved-package.js';
import type { Logger } from '../log/logger.js';
import { maskLink } from '../log/secrets.js';
import { checkDiskSpace, DEFAULT_RESERVE_BYTES } from './disk-space.js';
import type { AscpInstallation } from './locate.js';
import { planDecryption } from '../decrypt/decryption-plan.js';
import { checkTransfer, wrongPassphrase } from '../verify/check-transfer.js';
import { effectiveFilter, NO_FILTER, type FileFilter } from '../verify/file-filter.js';
import { planFiles } from '../verify/file-plan.js';
import { buildManifest, findCompleted, readManifest, writeManifestAtomic, type PackageManifest } from './manifest.js';
import { checkContained, folderName, preparePackageFolder } from './package-folder.js';
import { runAscp, type AscpTiming } from './run-ascp.js';
import { formatDuration } from './units.js';

export interface DownloadProgress {
  bytes: number;
  total?: number;
  rateBps?: number;
  file?: string;
}

export interface DownloadContext {
  config: Config;
  logger: Logger;
  resolver: PackageResolver;
  /** from locateAscp(), located once per process */
  ascp: AscpInstallation;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** readable lines (for BullMQ job.log and the CLI) */
  onLog?: (line: string) => void;
  /** once the server has described the package and its folder is chosen (status, dashboard) */
  onResolved?: (info: { title?: string; sender?: string; folder: string; totalBytes?: number }) => void;
  /**
   * Transfer caps (the workers' src/queue/transfer-gate.ts): asked before the link is resolved
   * and before ascp starts; either may throw to make the attempt wait.
   */
  gate?: { beforeResolve(): Promise<void>; beforeTransfer(transferHost: string): Promise<void> };
  /** overrides for ascp's start-up and shutdown timeouts (tests) */
  timing?: AscpTiming;
  /** the inbox whose mail announced the package (a passphrase may be chosen by it) */
  inbox?: string;
  /** the inbox's own include / exclude, replacing FILE_INCLUDE / FILE_EXCLUDE */
  filter?: Partial<FileFilter>;
}

export interface DownloadResult {
  folder: string;
  manifest: PackageManifest;
  alreadyComplete: boolean;
  bytesTransferred: number;
}

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** One attempt. Throws IngestError; partial files stay on disk for the next attempt to resume. */
export async function downloadPackage(link: PackageLink, ctx: DownloadContext): Promise<DownloadResult> {
  const log = (line: string) => ctx.onLog?.(line);
  const logger = ctx.logger.child({ link: maskLink(link.url), server: link.server, packageId: link.packageId });
  try {
    // Cheap first: a finished package is known from its manifest, without asking the server.
    const done = await findCompleted(ctx.config.downloads.dir, link);
    if (done) {
      log(`already complete in ${done.folder}`);
      return { folder: done.folder, manifest: done.manifest, alreadyComplete: true, bytesTransferred: 0 };
    }
    cancelledCheck(ctx.signal);

    await ctx.gate?.beforeResolve();
    const pkg = await ctx.resolver.resolve(link, ctx.signal);
    cancelledCheck(ctx.signal);
    const folder = await preparePackageFolder(ctx.config.downloads.dir, folderName({ server: link.server, packageId: link.packageId, title: pkg.title }));
    const existing = await readManifest(folder);
    if (existing) return { folder, manifest: existing, alreadyComplete: true, bytesTransferred: 0 };
    // A link planted in the folder between attempts must not be written through by the resume.
    await checkContained(ctx.config.downloads.dir, folder);
    // room for what is still missing, before a transfer slot is taken (DISK_FULL waits)
    if (pkg.totalBytes !== undefined) await checkDiskSpace(folder, pkg.totalBytes, ctx.config.downloads.reserveBytes ?? DEFAULT_RESERVE_BYTES);

    // Decided before any byte moves: a package known encrypted with no passphrase fails here.
    const decryption = planDecryption(ctx.config.downloads.decrypt, pkg.encrypted, { server: link.server, sender: pkg.sender, inbox: ctx.inbox });
    const plan = planFiles({
      listed: pkg.files, sources: pkg.transferSpec.paths.map((p) => p.source), decrypt: decryption.choice !== undefined,
      filter: effectiveFilter(ctx.config.downloads.filter ?? NO_FILTER, ctx.filter),
    });

    await ctx.gate?.beforeTransfer(pkg.transferSpec.remote_host);
    cancelledCheck(ctx.signal);
    ctx.onResolved?.({ title: pkg.title, sender: pkg.sender, folder, totalBytes: pkg.totalBytes });
    const startedAt = new Date();
    log(`downloading ${pkg.title === undefined ? `package ${link.packageId}` : `"${pkg.title}"`} into ${folder}${
      plan.skipped.length > 0 ? ` (${plan.pairs?.length ?? 0} file(s) wanted, ${plan.skipped.length} left out by the filter)` : ''}${
      decryption.choice ? `, decrypting with the passphrase of ${decryption.choice.source}` : ''}`);
    logger.info({ folder, wanted: plan.pairs?.length, skipped: plan.skipped.length, decrypt: decryption.choice?.source }, 'download starting');
    // a filter that wants nothing: no transfer at all, the manifest says what was left
    const run = plan.pairs?.length === 0 ? { progress: { bytesTransferred: 0 }, checksums: new Map<string, string>() } : await runAscp({
      ascp: ctx.ascp,
      spec: pkg.transferSpec,
      destination: folder,
      stallMs: ctx.config.downloads.stallSeconds * 1000,
      signal: ctx.signal,
      onLog: ctx.onLog,
      logger,
      timing: ctx.timing,
      transport: ctx.config.downloads.transport,
      wssCaFile: ctx.config.faspex.caFile,
      onProgress: (p) => ctx.onProgress?.({ bytes: p.bytesDone, total: p.total, rateBps: p.rateBps, file: p.file }),
      decryptPassphrase: decryption.choice?.passphrase,
      pairs: plan.pairs,
    }).catch((e: unknown) => {
      throw wrongPassphrase(asIngestError(e), decryption);
    });

    await checkContained(ctx.config.downloads.dir, folder);
    const checked = await checkTransfer(folder, plan, decryption, run.checksums, ctx.signal);
    const files = checked.files;
    const manifest = buildManifest(pkg, files, { startedAt, finishedAt: new Date() }, checked.facts);
    await writeManifestAtomic(folder, manifest);
    const seconds = (Date.now() - startedAt.getTime()) / 1000;
    log(`complete: ${files.length} file(s) in ${formatDuration(seconds)}${checked.facts.verifiedAgainstServer ? ", verified against the server's list" : ''}; SHA-256 ${
      checked.fromAscp} from ascp, ${files.length - checked.fromAscp} computed`);
    logger.info({ folder, files: files.length, bytes: manifest.totalBytes, transferred: run.progress.bytesTransferred }, 'download complete');
    return { folder, manifest, alreadyComplete: false, bytesTransferred: run.progress.bytesTransferred };
  } catch (e) {
    const err = asIngestError(e);
    // waiting for a transfer slot or for disk space is no failure (the worker delays the job)
    if (err.code !== 'CAPPED' && !(err.code === 'DISK_FULL' && err.details.cause === 'before-start')) logger.info({ code: err.code, retry: err.retry, err }, 'download attempt failed');
    throw err;
  }
}

/**
 * Attempts until success, a permanent failure, cancellation or `attempts` runs out. Every
 * attempt resolves the link again (downloadPackage does), so each one carries a fresh token; a
 * refused token ('refresh') is retried at once, since waiting cannot help it.
 */
export async function downloadWithRetries(link: PackageLink, ctx: DownloadContext, policy: RetryPolicy): Promise<DownloadResult> {
  const sleep = policy.sleep ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }).then(() => undefined));
  const attempts = Math.max(1, policy.attempts);
  let refreshes = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadPackage(link, ctx);
    } catch (e) {
      const err = asIngestError(e);
      if (ctx.signal?.aborted || err.code === 'CANCELLED') throw cancelledError(err);
      if (err.retry === 'never') throw err;
      if (attempt >= attempts) {
        throw new IngestError(err.code, `${err.message} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`, { retry: err.retry, details: err.details, cause: err });
      }
      // One immediate retry for a refused token; if the fresh one is refused too, back off.
      const wait = err.retry === 'refresh' && refreshes++ === 0 ? 0 : retryDelayMs(attempt, policy.baseMs, policy.maxMs);
      ctx.onLog?.(`attempt ${attempt} of ${attempts} failed: ${err.message}; ${wait === 0 ? 'retrying now' : `retrying in ${formatDuration(wait / 1000)}`}${err.retry === 'refresh' ? ' with a fresh token' : ''}`);
      try {
        if (wait > 0) await sleep(wait, ctx.signal);
      } catch (sleepErr) {
        if (ctx.signal?.aborted) throw cancelledError(err);
        throw sleepErr;
      }
      if (ctx.signal?.aborted) throw cancelledError(err);
    }
  }
}

function cancelledCheck(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}

function cancelledError(cause?: IngestError): IngestError {
  if (cause?.code === 'CANCELLED') return cause;
  return new IngestError('CANCELLED', 'the download was cancelled; partial files are kept for a resume', { retry: 'later', cause });
}
