/**
 * `verify DIR`'s work: a package folder against its `faspex-package.json`, at any time (an archive
 * audited months later). Every file is read once, streamed; a file of the wrong size is not hashed.
 */
import { join } from 'node:path';
import { isManifestFile, readManifest, type PackageManifest } from '../ascp/manifest.js';
import { listFiles } from '../ascp/package-folder.js';
import { compareFiles, type FileDifferences, type FoundFile } from './compare-files.js';
import { sha256File } from './file-hash.js';

export interface FolderCheck {
  manifest: PackageManifest;
  differences: FileDifferences;
  /** files whose SHA-256 was compared (the rest: size only, in a manifest from before checksums) */
  hashed: number;
}

/** undefined when the folder holds no readable manifest. */
export async function verifyFolder(folder: string): Promise<FolderCheck | undefined> {
  const manifest = await readManifest(folder);
  if (!manifest) return undefined;
  const expected = new Map(manifest.files.map((f) => [f.path, f]));
  const found: FoundFile[] = [];
  let hashed = 0;
  for (const f of await listFiles(folder, isManifestFile)) {
    const e = expected.get(f.path);
    if (e?.sha256 !== undefined && e.size === f.size) {
      found.push({ ...f, sha256: await sha256File(join(folder, f.path)) });
      hashed++;
    } else found.push(f);
  }
  return { manifest, differences: compareFiles(manifest.files, found), hashed };
}
