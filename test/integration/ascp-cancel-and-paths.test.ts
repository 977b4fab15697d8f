/**
 * Cancellation leaves no ascp behind; hostile titles and planted links cannot put a file outside
 * the download folder.
 */
import { mkdirSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { downloadPackage, downloadWithRetries } from '../../src/ascp/download-package.js';
import { folderName } from '../../src/ascp/package-folder.js';
import { IngestError } from '../../src/errors.js';
import { alive, setupFakeAscp } from '../support/fake-ascp-harness.js';
import { waitFor } from '../support/temp.js';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('cancellation', () => {
  it.each([
    ['ascp that stops on SIGINT', false],
    ['ascp that ignores SIGINT (SIGKILL after the grace period)', true],
  ])('%s: CANCELLED, partial kept, no ascp process left', async (_name, ignoreSignals) => {
    const s = setupFakeAscp({ files: { 'big.bin': 2_000_000 }, rateBps: 200_000, ignoreSignals });
    const controller = new AbortController();
    let bytes = 0;
    const sleeps: number[] = [];
    const running = downloadWithRetries(s.link, s.ctx({ signal: controller.signal, onProgress: (p) => (bytes = p.bytes), timing: { graceMs: 300 } }), {
      attempts: 3, baseMs: 1, maxMs: 1, sleep: async (ms) => void sleeps.push(ms),
    }).then(() => undefined, (e: unknown) => e);
    await waitFor(() => bytes > 0, { what: 'first progress' });
    controller.abort();
    const err = await running;
    expect(err).toBeInstanceOf(IngestError);
    expect(err).toMatchObject({ code: 'CANCELLED' });
    expect(sleeps).toEqual([]);
    const [inv] = s.invocations();
    expect(s.invocations()).toHaveLength(1);
    expect(alive(inv!.pid)).toBe(false);
    const pkg = join(s.downloads, 'fx.example.com_77_Q3 report', 'PKG - package');
    expect(readdirSync(pkg)).toEqual(['big.bin.partial']);
  });

  it('an already-aborted signal starts nothing', async () => {
    const s = setupFakeAscp();
    const err = await downloadPackage(s.link, s.ctx({ signal: AbortSignal.abort() })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CANCELLED' });
    expect(s.resolveCalls).toBe(0);
    expect(s.invocations()).toHaveLength(0);
  });
});

describe('hostile package titles', () => {
  it.each([
    ['../../etc'],
    ['/etc/cron.d/evil'],
    ['..'],
    ['a\u0000b/../../c'],
    ['\u001b]0;pwned\u0007\r\nX-Injected: 1'],
    ['-rf --no-preserve-root'],
    ['\\..\\..\\windows'],
    ['日本語のタイトル🎉'.repeat(50)],
  ])('title %j stays inside the download folder', async (title) => {
    const s = setupFakeAscp({ title });
    const result = await downloadPackage(s.link, s.ctx());
    const root = realpathSync(s.downloads);
    expect(relative(root, result.folder)).toBe(folderName({ server: 'fx.example.com', packageId: '77', title }));
    expect(relative(root, result.folder)).not.toMatch(/[/\\]|^\.|^-/);
    expect(Buffer.byteLength(relative(root, result.folder))).toBeLessThanOrEqual(200);
    // Every file of the test root is in the package folder, the store, the state dir or is the key/wrapper.
    const outside = walk(s.root).filter((f) => ![result.folder, s.store, s.stateDir].some((d) => f.startsWith(`${d}/`)) && !/\/(ascp|aspera_tokenauth_id_rsa)$/.test(f));
    expect(outside).toEqual([]);
    expect(result.manifest.title).toBe(title);
  });

  it('a link planted in the package folder stops the download before ascp writes through it', async () => {
    const s = setupFakeAscp();
    const elsewhere = join(s.root, 'elsewhere');
    mkdirSync(elsewhere);
    const folder = join(s.downloads, 'fx.example.com_77_Q3 report');
    mkdirSync(folder, { recursive: true });
    symlinkSync(elsewhere, join(folder, 'PKG - package'));
    const err = await downloadPackage(s.link, s.ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNSAFE_PATH', retry: 'never' });
    expect(s.invocations()).toHaveLength(0);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('a package folder replaced by a link to elsewhere is refused', async () => {
    const s = setupFakeAscp();
    const elsewhere = join(s.root, 'elsewhere');
    mkdirSync(elsewhere);
    mkdirSync(s.downloads);
    symlinkSync(elsewhere, join(s.downloads, 'fx.example.com_77_Q3 report'));
    writeFileSync(join(elsewhere, 'marker'), '');
    const err = await downloadPackage(s.link, s.ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNSAFE_PATH' });
    expect(readdirSync(elsewhere)).toEqual(['marker']);
  });
});
