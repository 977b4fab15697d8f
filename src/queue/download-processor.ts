/**
 * Runs one download job: link → resolve → token → ascp → manifest, through downloadPackage.
 *
 * Failure contract (what BullMQ sees):
 * - success: returns where the package landed; the manifest on disk is the proof.
 * - permanent failure (expired link, wrong passcode, deleted package, disk full, ...):
 *   UnrecoverableError: the job fails at once with the reason in plain words.
 * - transient failure (5xx, network, retryable ascp code, refused token): rethrown; BullMQ
 *   retries with backoff, and every attempt resolves the link again, so a retry long after
 *   the first gets a fresh token. Partial files stay, so a retry only transfers what is missing.
 * - no disk space (the package does not fit before it starts, or ascp says the disk is full):
 *   the job waits without spending an attempt (moveToDelayed + DelayedError, as over a transfer
 *   cap), partial files stay, and it looks again every DISK_SPACE_RECHECK_SECONDS: first on the
 *   folder alone (no request to the server while the disk stays full), then as a new attempt.
 * - shutdown: the transfer is stopped cleanly and the job goes back to the queue without
 *   spending an attempt (DelayedError), to resume on the next start or another worker.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Config } from '../config/config.js';
import type { AscpInstallation } from '../ascp/locate.js';
import { checkDiskSpace, DEFAULT_RESERVE_BYTES } from '../ascp/disk-space.js';
import { resolveDownloadDir } from '../ascp/download-subfolder.js';
import { downloadPackage, type DownloadProgress, type DownloadResult } from '../ascp/download-package.js';
import { asIngestError, type IngestError } from '../errors.js';
import { parsePackageLink } from '../faspex/link.js';
import type { PackageResolver } from '../faspex/resolved-package.js';
import type { Logger } from '../log/logger.js';
import { maskText } from '../log/secrets.js';
import { downloadJobSchema, type DownloadJobData, type HandoffState } from './queues.js';
import { capWaitMs, type CapSettings } from './transfer-caps.js';
import { TransferGate } from './transfer-gate.js';
import type { TransferSlots } from './transfer-slots.js';

/** What job.updateProgress carries: the dashboard's progress bar, rate and ETA come from here. */
export interface DownloadJobProgress extends DownloadProgress {
  /** waiting: over a transfer cap, back in a moment without spending an attempt */
  phase: 'waiting' | 'resolving' | 'transferring' | 'done';
  /** why it waits, for people */
  waitingFor?: string;
  title?: string;
  /** who sent the package, as the Faspex server says */
  sender?: string;
  folder?: string;
  /** when this attempt's transfer started (ms since epoch) */
  startedAt?: number;
  /** when this progress was written (ms since epoch): a reader can tell a stale rate */
  at?: number;
  /** while it waits for disk space: what to look at again before asking the server anything */
  diskWait?: { folder: string; totalBytes: number };
  /** ON_COMPLETE_COMMAND's state once the package is complete (src/queue/handoff-processor.ts) */
  handoff?: HandoffState;
}

export interface DownloadJobResult {
  folder: string;
  title: string | undefined;
  bytesTransferred: number;
  alreadyComplete: boolean;
  files: number;
}

export interface DownloadOutcomeListener {
  completed(job: Job<DownloadJobData>, result: DownloadResult, seconds: number): Promise<void> | void;
  /** `final` is false when BullMQ will try again */
  failed(job: Job<DownloadJobData>, error: ReturnType<typeof asIngestError>, final: boolean): Promise<void> | void;
  /** the job waits for disk space: before it started, or after ascp found the disk full */
  waitingForSpace?(job: Job<DownloadJobData>, cause: 'before_start' | 'disk_full'): Promise<void> | void;
}

export interface DownloadProcessorDeps {
  config: Config;
  logger: Logger;
  resolver: PackageResolver;
  ascp: AscpInstallation;
  outcomes?: DownloadOutcomeListener;
  /** how often progress is written to Redis at most */
  progressIntervalMs?: number;
  /** names the job for people once the title is known (job-name.ts renameJob) */
  rename?: (jobId: string, title: string, sender?: string) => Promise<unknown>;
  /** transfer caps per Faspex server and transfer host, held in Redis */
  caps?: { slots: TransferSlots; settings: CapSettings };
}

export function createDownloadProcessor(deps: DownloadProcessorDeps) {
  return async (job: Job<DownloadJobData>, token?: string, signal?: AbortSignal): Promise<DownloadJobResult> => {
    const data = downloadJobSchema.parse(job.data);
    // a sweep's box is job data, not part of the link a mail could carry
    const link = { ...parsePackageLink(data.link), ...(data.box ? { box: data.box } : {}) };
    const log = deps.logger.child({ jobId: job.id, kind: link.kind, server: link.server, packageId: link.packageId });
    const started = Date.now();
    const progress = throttledProgress(job, deps.progressIntervalMs ?? 1000);
    // back from waiting for a slot: the attempt was announced already. Read before the first
    // write: job.updateProgress replaces job.progress, so afterwards it always says 'resolving'.
    const prior = (job.progress ?? {}) as Partial<DownloadJobProgress>;
    const wasWaiting = prior.phase === 'waiting';
    const reserveBytes = deps.config.downloads.reserveBytes ?? DEFAULT_RESERVE_BYTES;
    /** The job waits for disk space: no attempt spent, back after DISK_SPACE_RECHECK_SECONDS. */
    const waitForSpace = async (err: IngestError, diskWait: DownloadJobProgress['diskWait'], again: boolean): Promise<never> => {
      // looking again before any write of this run: the last wait's title and folder stay shown
      const base = again ? prior : progress.current;
      await progress.write({ ...base, phase: 'waiting', bytes: base.bytes ?? 0, waitingFor: err.message, diskWait }, true);
      if (!again) await job.log(`${err.message}; no attempt spent`);
      log.warn({ reason: err.message, cause: err.details.cause ?? 'disk-full' }, 'waiting for disk space');
      await deps.outcomes?.waitingForSpace?.(job, err.details.cause === 'before-start' ? 'before_start' : 'disk_full');
      await job.moveToDelayed(Date.now() + (deps.config.downloads.spaceRecheckMs ?? 60_000), token!);
      throw new DelayedError();
    };
    // Back from a wait for space: look at the folder first; the server is asked only once it fits.
    if (wasWaiting && prior.diskWait && token) {
      const still = await checkDiskSpace(prior.diskWait.folder, prior.diskWait.totalBytes, reserveBytes).then(() => undefined, (e: unknown) => asIngestError(e));
      if (still?.code === 'DISK_FULL') await waitForSpace(still, prior.diskWait, true);
    }
    await progress.write({ phase: 'resolving', bytes: 0, diskWait: undefined }, true);
    if (!wasWaiting) await job.log(`attempt ${job.attemptsMade + 1} of ${job.opts.attempts ?? 1}: resolving ${maskText(link.url)}`);
    const gate = deps.caps && token ? new TransferGate(deps.caps.slots, deps.caps.settings, `${job.id}:${token}`, log) : undefined;
    let transferHost: string | undefined;
    try {
      // An inbox's own folder: checked again here, since the job is only data from Redis.
      const dir = await resolveDownloadDir(deps.config.downloads.dir, data.folder);
      const config = dir === deps.config.downloads.dir ? deps.config : { ...deps.config, downloads: { ...deps.config.downloads, dir } };
      const result = await downloadPackage(link, {
        config,
        logger: log,
        resolver: deps.resolver,
        ascp: deps.ascp,
        signal,
        inbox: data.source.inbox,
        filter: data.filter,
        gate: gate && {
          beforeResolve: () => gate.enter('server', link.server),
          beforeTransfer: (host) => {
            transferHost = host;
            return gate.enter('transfer-host', host);
          },
        },
        onResolved: ({ title, sender, folder, totalBytes }) => {
          void progress.write({ phase: 'transferring', bytes: 0, total: totalBytes, title, sender, folder, startedAt: Date.now() }, true);
          if (title && job.id && deps.rename) deps.rename(job.id, title, sender).catch((err: unknown) => log.debug({ err }, 'could not rename the job'));
        },
        onProgress: (p) => void progress.write({ phase: 'transferring', ...p }),
        onLog: (line) => void job.log(maskText(line)).catch(() => undefined),
      });
      const title = result.manifest.title;
      await progress.write({ phase: 'done', bytes: result.bytesTransferred, total: result.bytesTransferred, title, folder: result.folder }, true);
      await job.log(result.alreadyComplete ? `already complete in ${result.folder}` : `complete: ${result.folder}`);
      await deps.outcomes?.completed(job, result, (Date.now() - started) / 1000);
      return { folder: result.folder, title, bytesTransferred: result.bytesTransferred, alreadyComplete: result.alreadyComplete, files: result.manifest.files.length };
    } catch (e) {
      const err = asIngestError(e);
      if (err.code === 'CANCELLED' && signal?.aborted && token) {
        await job.log('stopped for shutdown; the package resumes on the next start');
        await job.moveToDelayed(Date.now() + 1000, token);
        throw new DelayedError();
      }
      // Over a cap, or refused by a server that has too many sessions (its cap is lowered):
      // back in a moment, and this attempt does not count.
      if (token && gate && (err.code === 'CAPPED' || (await gate.refused(err, { server: link.server, transferHost }).catch(() => false)))) {
        await progress.write({ phase: 'waiting', bytes: 0, waitingFor: err.message }, true);
        if (err.code !== 'CAPPED') await job.log(`${err.message}; waiting for a slot, no attempt spent`);
        await job.moveToDelayed(Date.now() + capWaitMs(), token);
        throw new DelayedError();
      }
      if (token && err.code === 'DISK_FULL' && err.retry !== 'never') {
        const folder = typeof err.details.folder === 'string' ? err.details.folder : progress.current.folder;
        const totalBytes = typeof err.details.totalBytes === 'number' ? err.details.totalBytes : progress.current.total;
        await waitForSpace(err, folder !== undefined && totalBytes !== undefined ? { folder, totalBytes } : undefined, false);
      }
      const final = err.retry === 'never' || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await job.log(`failed (${err.code}): ${err.message}${final ? '' : ' — will retry'}`);
      await deps.outcomes?.failed(job, err, final);
      if (err.retry === 'never') throw new UnrecoverableError(`${err.message} [${err.code}]`);
      throw err;
    } finally {
      await gate?.leave();
    }
  };
}

/** Progress arrives many times a second from ascp; Redis gets it at most once per interval. */
function throttledProgress(job: Job<DownloadJobData>, intervalMs: number) {
  let last = 0;
  let current: DownloadJobProgress = { phase: 'resolving', bytes: 0 };
  return {
    get current(): DownloadJobProgress {
      return current;
    },
    async write(p: DownloadJobProgress, force = false): Promise<void> {
      current = { ...current, ...p };
      const now = Date.now();
      if (!force && now - last < intervalMs) return;
      last = now;
      await job.updateProgress({ ...current, at: now }).catch(() => undefined);
    },
  };
}
