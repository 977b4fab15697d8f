/**
 * Memory while `verify` hashes a large file: a 2 GB sparse file (no disk used) is hashed with
 * the streamed sha256File; peak RSS is compared with a baseline measured in the same run (the
 * same process hashing a 1 MB file). Flat memory means the ratio stays near 1.
 *   npx tsx bench/verify-memory.ts [GB]
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256File } from '../src/verify/file-hash.js';

const gb = Number(process.argv[2] ?? '2');
const dir = mkdtempSync(join(tmpdir(), 'verify-mem-'));
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
try {
  const small = join(dir, 'small');
  writeFileSync(small, Buffer.alloc(1024 * 1024, 7));
  const big = join(dir, 'big');
  writeFileSync(big, '');
  truncateSync(big, gb * 1024 ** 3);
  await sha256File(small);
  const baseline = process.resourceUsage().maxRSS * 1024;
  const t0 = Date.now();
  await sha256File(big);
  const seconds = (Date.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`baseline peak RSS (1 MB file hashed): ${mb(baseline)}`);
  console.log(`peak RSS after hashing a ${gb} GB sparse file: ${mb(peak)} (ratio ${(peak / baseline).toFixed(2)}), ${seconds.toFixed(1)} s, ${((gb * 1024) / seconds).toFixed(0)} MB/s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
