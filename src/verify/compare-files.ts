/**
 * What is on disk against what should be: the one comparison behind the check after a transfer
 * (against the server's list) and `verify DIR` (against the manifest). Pure.
 *
 * An expected file without a size (a decrypted file: the server lists the encrypted size) is
 * checked for presence only; one without a sha256 (a manifest from before checksums) is checked
 * for its size only.
 */
export interface ExpectedFile {
  path: string;
  size?: number;
  sha256?: string;
}

export interface FoundFile {
  path: string;
  size: number;
  sha256?: string;
}

export interface FileDifferences {
  missing: string[];
  extra: string[];
  wrongSize: Array<{ path: string; expected: number; found: number }>;
  wrongHash: string[];
}

export function compareFiles(expected: readonly ExpectedFile[], found: readonly FoundFile[]): FileDifferences {
  const onDisk = new Map(found.map((f) => [f.path, f]));
  const wanted = new Set(expected.map((f) => f.path));
  const d: FileDifferences = { missing: [], extra: [], wrongSize: [], wrongHash: [] };
  for (const e of expected) {
    const f = onDisk.get(e.path);
    if (!f) d.missing.push(e.path);
    else if (e.size !== undefined && e.size !== f.size) d.wrongSize.push({ path: e.path, expected: e.size, found: f.size });
    else if (e.sha256 !== undefined && f.sha256 !== undefined && e.sha256.toLowerCase() !== f.sha256.toLowerCase()) d.wrongHash.push(e.path);
  }
  for (const f of found) if (!wanted.has(f.path)) d.extra.push(f.path);
  for (const list of [d.missing, d.extra, d.wrongHash]) list.sort();
  d.wrongSize.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return d;
}

export function isClean(d: FileDifferences): boolean {
  return d.missing.length + d.extra.length + d.wrongSize.length + d.wrongHash.length === 0;
}

/** One line per difference, for people (`verify DIR` prints them; failures quote them). */
export function describeDifferences(d: FileDifferences): string[] {
  return [
    ...d.missing.map((p) => `missing: ${p}`),
    ...d.extra.map((p) => `extra: ${p}`),
    ...d.wrongSize.map((w) => `size differs: ${w.path} (expected ${w.expected} bytes, found ${w.found})`),
    ...d.wrongHash.map((p) => `SHA-256 differs: ${p}`),
  ];
}

/** The same, in one sentence of bounded length: a package of 100,000 missing files must not make a 10 MB error. */
export function summariseDifferences(d: FileDifferences, max = 10): string {
  const lines = describeDifferences(d);
  const shown = lines.slice(0, max).join('; ');
  return lines.length > max ? `${shown}; and ${lines.length - max} more` : shown;
}
