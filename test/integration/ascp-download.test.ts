/**
 * downloadPackage / downloadWithRetries against the fake ascp: success, resume, idempotency and
 * the secrecy of the token. The fake really checks the token, the key file and the argv.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { downloadPackage, downloadWithRetries, type DownloadProgress } from '../../src/ascp/download-package.js';
import { MANIFEST_NAME } from '../../src/ascp/manifest.js';
import { pattern, setupFakeAscp } from '../support/fake-ascp-harness.js';

describe('downloadPackage with the fake ascp', () => {
  it('downloads a package into its own folder, writes the manifest last, and keeps the token out of argv and logs', async () => {
    const s = setupFakeAscp({ files: { 'a.txt': 'hello', 'sub/b.bin': 300_000 } });
    const progress: DownloadProgress[] = [];
    const result = await downloadPackage(s.link, s.ctx({ onProgress: (p) => void progress.push(p) }));

    expect(result.alreadyComplete).toBe(false);
    expect(result.folder).toBe(join(s.downloads, 'fx.example.com_77_Q3 report'));
    expect(readFileSync(join(result.folder, 'PKG - package', 'a.txt'), 'utf8')).toBe('hello');
    expect(readFileSync(join(result.folder, 'PKG - package', 'sub', 'b.bin')).equals(pattern(300_000))).toBe(true);
    expect(readdirSync(result.folder).sort()).toEqual(['PKG - package', MANIFEST_NAME]);
    expect(result.manifest).toMatchObject({
      kind: 'faspex4-external', server: 'fx.example.com', packageId: '77', title: 'Q3 report', sender: 'alice@example.com', totalBytes: 300_005,
      files: [{ path: 'PKG - package/a.txt', size: 5 }, { path: 'PKG - package/sub/b.bin', size: 300_000 }],
    });
    expect(result.manifest.link).toMatch(/passcode=\*\*\*$/);
    expect(result.bytesTransferred).toBe(300_005);
    expect(progress.at(-1)).toMatchObject({ bytes: 300_005, total: 300_005 });
    expect(progress.some((p) => p.bytes > 0 && p.bytes < 300_005)).toBe(true);

    const [inv] = s.invocations();
    expect(inv!.argv).toEqual(expect.arrayContaining(['-k', '2', '-d', '--mode', 'recv', '-i', join(s.root, 'aspera_tokenauth_id_rsa')]));
    expect(inv!.argv[inv!.argv.indexOf('-k') + 1]).toBe('2');
    expect(inv!.argv.at(-1)).toBe(result.folder);
    expect(inv!.envNames).toContain('ASPERA_SCP_TOKEN');
    const token = s.tokens[0]!;
    for (const text of [JSON.stringify(inv), ...s.logs, ...s.lines, readFileSync(join(result.folder, MANIFEST_NAME), 'utf8')]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(s.link.passcode!);
    }
    expect(s.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^transfer done/), expect.stringMatching(/^complete: 2 file/)]));
  });

  it('a complete package is recognised from its manifest without resolving or running ascp', async () => {
    const s = setupFakeAscp();
    const first = await downloadPackage(s.link, s.ctx());
    const manifestTime = statSync(join(first.folder, MANIFEST_NAME)).mtimeMs;
    const again = await downloadPackage(s.link, s.ctx());
    expect(again).toMatchObject({ alreadyComplete: true, folder: first.folder, bytesTransferred: 0, manifest: first.manifest });
    expect(s.resolveCalls).toBe(1);
    expect(s.invocations()).toHaveLength(1);
    expect(statSync(join(first.folder, MANIFEST_NAME)).mtimeMs).toBe(manifestTime);
  });

  it('resumes after a failure mid-file: the retry transfers only what was missing', async () => {
    const size = 1_000_000;
    const s = setupFakeAscp({ files: { 'big.bin': size }, fail: 'code:16@50%,ok' });
    const partial = () => join(s.downloads, 'fx.example.com_77_Q3 report', 'PKG - package', 'big.bin.partial');
    let missing = -1;
    const sleeps: number[] = [];
    const result = await downloadWithRetries(s.link, s.ctx(), {
      attempts: 3, baseMs: 1000, maxMs: 8000,
      // Between the attempts: what is on disk now is what the retry must not send again.
      sleep: async (ms) => {
        sleeps.push(ms);
        missing = size - statSync(partial()).size;
      },
    });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(500);
    expect(missing).toBeGreaterThan(0);
    expect(missing).toBeLessThan(size);
    expect(result.bytesTransferred).toBeLessThanOrEqual(missing * 1.1);
    expect(result.bytesTransferred).toBeGreaterThanOrEqual(missing);
    expect(readFileSync(join(result.folder, 'PKG - package', 'big.bin')).equals(pattern(size))).toBe(true);
    expect(s.lines).toEqual(expect.arrayContaining([expect.stringMatching(/attempt 1 of 3 failed: the connection to the transfer server was lost/), expect.stringMatching(/resumed at/)]));
    // A fresh token for the retry as well.
    expect(s.resolveCalls).toBe(2);
    expect(s.invocations().map((i) => i.argv[i.argv.indexOf('-k') + 1])).toEqual(['2', '2']);
  });

  it('resumes after ascp was killed mid-file (SIGKILL, no ERROR event)', async () => {
    const size = 600_000;
    const s = setupFakeAscp({ files: { 'big.bin': size }, fail: 'die@50%,ok' });
    const result = await downloadWithRetries(s.link, s.ctx(), { attempts: 2, baseMs: 1, maxMs: 1, sleep: async () => {} });
    expect(result.bytesTransferred).toBeLessThan(size * 0.6);
    expect(readFileSync(join(result.folder, 'PKG - package', 'big.bin')).equals(pattern(size))).toBe(true);
    expect(s.lines.join('\n')).toMatch(/attempt 1 of 2 failed: ascp was killed by SIGKILL/);
  });
});
