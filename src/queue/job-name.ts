/**
 * Jobs are named for people: the package's title once the Faspex server has told it, the mail
 * subject until then, `package <id> on <server>` when there is neither. Never a secret: every
 * name is masked (a subject may quote a link with its passcode) and capped in length.
 *
 * BullMQ 6.7 sets a job's name when it is added and has no call to change it. The name lives in
 * the job's hash (`<prefix>:<queue>:<id>`, field `name`), which bull-board and `status` read, so
 * the worker renames with one small Lua script: HSET of that field only if the hash still exists,
 * so a job removed meanwhile is not brought back as a stray hash. One key, so it is Cluster-safe.
 */
import type { Queue } from 'bullmq';
import { maskText } from '../log/secrets.js';
import { indexJobs, indexWords } from './package-index.js';
import type { DownloadJobData } from './queues.js';

const MAX_NAME = 120;

export interface NameParts {
  title?: string | null | undefined;
  subject?: string | null | undefined;
  packageId?: string | null | undefined;
  server?: string | null | undefined;
}

/** The name for people. Pure. */
export function packageName(parts: NameParts): string {
  const pick = [parts.title, parts.subject].map((s) => (s ?? '').replace(/\s+/g, ' ').trim()).find((s) => s.length > 0);
  const name = pick ?? (parts.packageId ? `package ${parts.packageId}${parts.server ? ` on ${parts.server}` : ''}` : 'package');
  const masked = maskText(name);
  return masked.length > MAX_NAME ? `${masked.slice(0, MAX_NAME - 1)}…` : masked;
}

/** The name a job gets when it is added (no title yet). */
export function initialJobName(data: Pick<DownloadJobData, 'packageId' | 'server' | 'source'>): string {
  return packageName({ subject: data.source.subject, packageId: data.packageId, server: data.server });
}

/** What to show for a job: its title if known (from the result or the progress), else its name. */
export function displayJobName(job: { name?: unknown; data?: unknown; progress?: unknown; returnvalue?: unknown }): string {
  const title = titleOf(job.returnvalue) ?? titleOf(job.progress);
  if (title) return packageName({ title });
  const data = (job.data ?? {}) as Partial<DownloadJobData>;
  // a name that is only the old generic `download` says nothing: build one from the data
  if (typeof job.name === 'string' && job.name !== '' && job.name !== 'download') return packageName({ subject: job.name });
  return packageName({ subject: data.source?.subject, packageId: data.packageId, server: data.server });
}

function titleOf(value: unknown): string | undefined {
  const t = value && typeof value === 'object' ? (value as { title?: unknown }).title : undefined;
  return typeof t === 'string' && t.trim() ? t : undefined;
}

const RENAME = 'faspexIngestRenameJob';
const RENAME_LUA = "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'name', ARGV[1]) return 1 end return 0";
const defined = new WeakSet<object>();

/**
 * Renames a job in place; false when the job no longer exists. The packages index learns the
 * title's words and the sender's (as the Faspex server says), so a search finds it by either.
 */
export async function renameJob(queue: Queue, jobId: string, name: string, sender?: string): Promise<boolean> {
  const client = await queue.getBackend().client;
  if (!defined.has(client)) {
    client.defineCommand(RENAME, { numberOfKeys: 1, lua: RENAME_LUA });
    defined.add(client);
  }
  const title = packageName({ title: name });
  const renamed = (await client.runCommand(RENAME, [queue.toKey(jobId), title])) === 1;
  if (renamed) await indexJobs(queue, [{ id: jobId, words: indexWords(title, sender ? maskText(sender) : undefined) }]);
  return renamed;
}
