/**
 * An inbox's own download folder: a relative path below DOWNLOAD_DIR, named in MAILBOXES_FILE and
 * carried by each job. The file is checked at start (`checkDownloadFolder`), and the worker checks
 * the job's copy again before writing anything (`resolveDownloadDir`): a job is data from Redis,
 * and whoever can write Redis must still not make a worker write outside DOWNLOAD_DIR.
 */
import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { permanent } from '../errors.js';
import { isInside, safeComponent } from './package-folder.js';

export const MAX_SUBFOLDER_DEPTH = 4;
const MAX_SUBFOLDER_BYTES = 200;

export type FolderCheck = { ok: true; folder: string } | { ok: false; reason: string };

/** Pure: the folder as it will be used (`a/b`), or why it is refused. */
export function checkDownloadFolder(raw: string): FolderCheck {
  const folder = raw.replace(/\/+$/, '');
  if (folder === '') return { ok: false, reason: 'must not be empty (leave it out to use DOWNLOAD_DIR itself)' };
  if (folder.startsWith('/') || /^[A-Za-z]:/.test(folder)) return { ok: false, reason: 'must be relative: it is a folder inside DOWNLOAD_DIR' };
  if (folder.includes('\\') || folder.includes('\0')) return { ok: false, reason: 'separate folders with / only' };
  if (Buffer.byteLength(folder) > MAX_SUBFOLDER_BYTES) return { ok: false, reason: `is longer than ${MAX_SUBFOLDER_BYTES} bytes` };
  const parts = folder.split('/');
  if (parts.length > MAX_SUBFOLDER_DEPTH) return { ok: false, reason: `is deeper than ${MAX_SUBFOLDER_DEPTH} folders` };
  for (const part of parts) {
    if (part === '..' || part === '.') return { ok: false, reason: `"${part}" would leave DOWNLOAD_DIR or mean nothing; name real folders` };
    if (part === '' || part !== safeComponent(part) || /^[.\-\s]/.test(part)) {
      return { ok: false, reason: `"${part}" is not a plain folder name (no empty parts, control characters, leading dot or dash, or : * ? " < > |)` };
    }
  }
  return { ok: true, folder };
}

/**
 * Where a job's package goes: DOWNLOAD_DIR, or the job's subfolder of it, created if missing and
 * proven inside DOWNLOAD_DIR after every symlink is resolved. Returns the real path.
 */
export async function resolveDownloadDir(downloadDir: string, folder: string | undefined): Promise<string> {
  if (folder === undefined) return downloadDir;
  const checked = checkDownloadFolder(folder);
  if (!checked.ok) throw permanent('UNSAFE_PATH', `the job's download folder ${JSON.stringify(folder)} is refused: it ${checked.reason}`);
  await mkdir(downloadDir, { recursive: true });
  const root = await realpath(downloadDir);
  // One level at a time, each proven inside before the next is made: `mkdir -p` would follow a
  // planted link and create folders outside DOWNLOAD_DIR before any check could run.
  let here = root;
  for (const part of checked.folder.split('/')) {
    const next = join(here, part);
    await mkdir(next).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    here = await realpath(next);
    if (!isInside(root, here)) throw permanent('UNSAFE_PATH', `the job's download folder ${JSON.stringify(folder)} resolves outside DOWNLOAD_DIR (a link?)`);
  }
  return here;
}
