/**
 * `faspex-package.json`: written into the package folder LAST, atomically (temp file, fsync,
 * rename, fsync of the folder), so its presence means "this package is complete" even after a
 * crash or a power cut at any moment. Nothing secret goes in: the link is masked, and a
 * passphrase is never known here (only whether one decrypted the files).
 *
 * Per file: `size` and `sha256` (hex). The package: whether its files were checked against the
 * server's own list (`verifiedAgainstServer`), whether ascp decrypted them (`decrypted`) or they
 * were kept encrypted on purpose (`keptEncrypted`, DECRYPT=never), and what a filter left on the
 * server (`skipped`). `faspex-ingest verify DIR` re-checks a folder against this file.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LinkKind, PackageLink } from '../faspex/link.js';
import type { ResolvedPackage } from '../faspex/resolved-package.js';
import { maskLink } from '../log/secrets.js';
import { failpoint } from '../service/failpoints.js';
import { folderPrefix } from './package-folder.js';

export const MANIFEST_NAME = 'faspex-package.json';
const TEMP_PREFIX = '.faspex-package.json.tmp-';

export interface PackageManifest {
  manifestVersion: 1;
  kind: LinkKind;
  server: string;
  packageId: string;
  title?: string;
  sender?: string;
  /** the link as received, passcode/context masked */
  link: string;
  files: ManifestFile[];
  totalBytes: number;
  startedAt: string;
  finishedAt: string;
  /** true: every file the server listed is here with its size, and nothing else (absent in older manifests) */
  verifiedAgainstServer?: boolean;
  /** true: ascp decrypted the package's files while receiving them */
  decrypted?: boolean;
  /** true: the package is encrypted and its `.aspera-env` files were kept so on purpose (DECRYPT=never) */
  keptEncrypted?: boolean;
  /** files the server listed that FILE_INCLUDE / FILE_EXCLUDE (or the inbox's include / exclude) left out */
  skipped?: Array<{ path: string; size?: number }>;
}

export interface ManifestFile {
  path: string;
  size: number;
  /** hex; absent only in manifests written before checksums */
  sha256?: string;
}

/** What is known about a package beyond its files, for the manifest. */
export interface ManifestFacts {
  verifiedAgainstServer: boolean;
  decrypted: boolean;
  keptEncrypted: boolean;
  skipped: Array<{ path: string; size?: number }>;
}

/** Pure: the manifest's content from what is known. */
export function buildManifest(
  pkg: Pick<ResolvedPackage, 'link' | 'title' | 'sender'>,
  files: ManifestFile[],
  times: { startedAt: Date; finishedAt: Date },
  facts: ManifestFacts = { verifiedAgainstServer: false, decrypted: false, keptEncrypted: false, skipped: [] },
): PackageManifest {
  const m: PackageManifest = {
    manifestVersion: 1,
    kind: pkg.link.kind,
    server: pkg.link.server,
    packageId: pkg.link.packageId,
    link: maskLink(pkg.link.url),
    files,
    totalBytes: files.reduce((n, f) => n + f.size, 0),
    startedAt: times.startedAt.toISOString(),
    finishedAt: times.finishedAt.toISOString(),
    verifiedAgainstServer: facts.verifiedAgainstServer,
    decrypted: facts.decrypted,
    keptEncrypted: facts.keptEncrypted,
  };
  if (facts.skipped.length > 0) m.skipped = facts.skipped;
  if (pkg.title !== undefined) m.title = pkg.title;
  if (pkg.sender !== undefined) m.sender = pkg.sender;
  return m;
}

/** The manifest and its leftover temp files are not package content. */
export function isManifestFile(rel: string): boolean {
  return rel === MANIFEST_NAME || (!rel.includes('/') && rel.startsWith(TEMP_PREFIX));
}

export async function writeManifestAtomic(folder: string, manifest: PackageManifest): Promise<void> {
  const temp = join(folder, `${TEMP_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fh = await open(temp, 'wx', 0o644);
    try {
      await fh.writeFile(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    failpoint('manifest.before-rename');
    await rename(temp, join(folder, MANIFEST_NAME));
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  // The rename is durable only once the folder entry itself is on disk.
  const dir = await open(folder, 'r');
  try {
    await dir.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await dir.close();
  }
}

export async function readManifest(folder: string): Promise<PackageManifest | undefined> {
  try {
    const value = JSON.parse(await readFile(join(folder, MANIFEST_NAME), 'utf8')) as PackageManifest;
    return value && value.manifestVersion === 1 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A finished download of this package, found without asking the server: the folder name starts
 * with `<server>_<packageId>` (the title is unknown before resolving) and the manifest inside
 * names the same package. One readdir, a few small reads.
 */
export async function findCompleted(downloadDir: string, link: PackageLink): Promise<{ folder: string; manifest: PackageManifest } | undefined> {
  const prefix = folderPrefix(link.server, link.packageId);
  let names: string[];
  try {
    names = await readdir(downloadDir);
  } catch {
    return undefined;
  }
  for (const name of names.filter((n) => n === prefix || n.startsWith(`${prefix}_`)).sort()) {
    const folder = join(downloadDir, name);
    const manifest = await readManifest(folder);
    if (manifest && manifest.server === link.server && manifest.packageId === link.packageId && manifest.kind === link.kind) return { folder, manifest };
  }
  return undefined;
}
