/**
 * Where a package lands: `DOWNLOAD_DIR/<server>_<packageId>_<title>/`. The title (and, in
 * principle, every part) comes from a server we do not control, so the name is made safe by
 * construction, and the resulting path is checked against the real DOWNLOAD_DIR anyway.
 * `folderName` is pure; `preparePackageFolder` and `checkContained` touch the disk.
 */
import { lstat, mkdir, readdir, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { permanent } from '../errors.js';

/** Linux NAME_MAX is 255 bytes; leave room for ascp's partial-file suffixes inside it. */
export const MAX_NAME_BYTES = 200;

// C0/C1 controls, DEL, and bidi/zero-width formatting that can make a name lie about itself.
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu;
// Separators and characters other file systems (SMB shares, Windows) refuse.
const RESERVED = /[/\\:*?"<>|]/g;

/** One name component, safe on its own: no separators, no `..`, no control characters. */
export function safeComponent(text: string): string {
  return text
    .normalize('NFC')
    .replace(INVISIBLE, ' ')
    .replace(RESERVED, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Cuts to at most `maxBytes` of UTF-8 without splitting a character (grapheme cluster). */
export function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let used = 0;
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) {
    const n = Buffer.byteLength(segment, 'utf8');
    if (used + n > maxBytes) break;
    out += segment;
    used += n;
  }
  return out;
}

/** The folder name for a package; never empty, never special, never a path. */
export function folderName(parts: { server: string; packageId: string; title?: string }): string {
  const server = trimEdges(safeComponent(parts.server).replace(/ /g, '_')) || 'server';
  const id = trimEdges(safeComponent(parts.packageId).replace(/ /g, '_')) || 'package';
  const prefix = trimEdges(truncateBytes(`${server}_${id}`, MAX_NAME_BYTES / 2));
  // A title made only of dots and dashes says nothing; inside the name its edges are harmless.
  const title = parts.title === undefined ? '' : safeComponent(parts.title).replace(/^[.\-\s]+$/, '').replace(/[.\s]+$/, '');
  const name = title ? `${prefix}_${truncateBytes(title, MAX_NAME_BYTES - Buffer.byteLength(prefix) - 1)}` : prefix;
  return trimEdges(name) || 'package';
}

/** The prefix shared by every folder of one package, whatever its title: used to find it before resolving. */
export function folderPrefix(server: string, packageId: string): string {
  return folderName({ server, packageId });
}

/** No leading dots (hidden, `.`/`..`) or dashes (read as options); no trailing dots or spaces (Windows). */
function trimEdges(name: string): string {
  return name.replace(/^[.\-\s]+/, '').replace(/[.\s]+$/, '');
}

export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * Creates (or reuses, for a resume) the package folder and proves it is inside DOWNLOAD_DIR
 * after every symlink is resolved. Returns the real path.
 */
export async function preparePackageFolder(downloadDir: string, name: string): Promise<string> {
  if (name === '' || name.includes('/') || name.includes('\\') || name.includes('\0') || name === '.' || name === '..') {
    throw permanent('UNSAFE_PATH', `unsafe package folder name ${JSON.stringify(name)}`);
  }
  await mkdir(downloadDir, { recursive: true });
  const root = await realpath(downloadDir);
  const folder = join(root, name);
  if (!isInside(root, resolve(folder))) throw permanent('UNSAFE_PATH', `package folder ${JSON.stringify(name)} would be outside the download folder`);
  await mkdir(folder, { recursive: true });
  const real = await realpath(folder);
  // The folder may already exist as a symlink planted by someone else.
  if (!isInside(root, real) || dirname(real) !== root) {
    throw permanent('UNSAFE_PATH', `package folder ${JSON.stringify(name)} resolves outside the download folder`, { folder: name });
  }
  return real;
}

/**
 * Walks the package folder and refuses any symlink that leads outside it: ascp (or a hostile
 * package) could have planted one, and the next resume, or whoever opens the files, would then
 * write or read elsewhere. Also proves the folder itself is still where it was.
 */
export async function checkContained(downloadDir: string, folder: string): Promise<void> {
  const root = await realpath(downloadDir);
  const real = await realpath(folder);
  if (real !== folder || !isInside(root, real)) throw permanent('UNSAFE_PATH', 'the package folder was moved or replaced by a link during the transfer');
  const stack = [folder];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) stack.push(p);
      else if (entry.isSymbolicLink()) {
        const target = await realpath(p).catch(async () => resolve(dirname(p), await readlink(p)));
        if (!isInside(folder, target)) {
          throw permanent('UNSAFE_PATH', `${relative(folder, p)} in the package folder is a link to a place outside it; remove it before retrying`, { entry: relative(folder, p) });
        }
      }
    }
  }
}

/** Regular files under `folder`, relative paths with sizes, sorted; links are not followed. */
export async function listFiles(folder: string, skip: (rel: string) => boolean = () => false): Promise<Array<{ path: string; size: number }>> {
  const out: Array<{ path: string; size: number }> = [];
  const stack = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    for (const entry of await readdir(join(folder, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) stack.push(r);
      else if (entry.isFile() && !skip(r)) out.push({ path: r, size: (await lstat(join(folder, r))).size });
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
