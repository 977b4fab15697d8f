import { mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildManifest, findCompleted, MANIFEST_NAME, readManifest, writeManifestAtomic } from '../../src/ascp/manifest.js';
import { checkContained, folderName, listFiles, MAX_NAME_BYTES, preparePackageFolder, safeComponent, truncateBytes } from '../../src/ascp/package-folder.js';
import type { PackageLink } from '../../src/faspex/link.js';
import { tempDir } from '../support/temp.js';

const name = (title: string | undefined, server = 'fx.example.com', packageId = '42') => folderName({ server, packageId, title });

describe('folderName', () => {
  it.each<[string | undefined, string]>([
    ['Q3 report', 'fx.example.com_42_Q3 report'],
    [undefined, 'fx.example.com_42'],
    ['', 'fx.example.com_42'],
    ['../../etc', 'fx.example.com_42_._._etc'],
    ['/etc/passwd', 'fx.example.com_42__etc_passwd'],
    ['C:\\Windows\\System32', 'fx.example.com_42_C__Windows_System32'],
    ['a\u0000b\u0007c\u001b[31md', 'fx.example.com_42_a b c [31md'],
    ['line\nbreak\r\ttab', 'fx.example.com_42_line break tab'],
    ['..', 'fx.example.com_42'],
    ['...hidden', 'fx.example.com_42_.hidden'],
    ['-rf', 'fx.example.com_42_-rf'],
    ['trailing dots...', 'fx.example.com_42_trailing dots'],
    ['bidi \u202eexe.txt', 'fx.example.com_42_bidi exe.txt'],
    ['Café “Ünïcødé” 日本語', 'fx.example.com_42_Café “Ünïcødé” 日本語'],
    ['a:b*c?d"e<f>g|h', 'fx.example.com_42_a_b_c_d_e_f_g_h'],
  ])('title %j → %j', (title, expected) => expect(name(title)).toBe(expected));

  it.each<[string, string, string]>([
    ['fx.example.com:8443', '42', 'fx.example.com_8443_42_t'],
    ['..', '..', 'server_package_t'],
    ['-evil', '../x', 'evil__x_t'],
    ['.hidden', '1', 'hidden_1_t'],
  ])('server %j, package %j', (server, id, expected) => expect(name('t', server, id)).toBe(expected));

  it('bounds a 500-character Unicode title in bytes, cut on a character boundary', () => {
    const title = '日本語🎉é'.repeat(100);
    const n = name(title);
    expect(Buffer.byteLength(n)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(n.startsWith('fx.example.com_42_日本語🎉')).toBe(true);
    expect(n).not.toMatch(/\uFFFD/);
    expect(Buffer.from(n).toString('utf8')).toBe(n);
  });

  it('never produces a separator, a control character, a leading dot or dash', () => {
    const nasty = ['../../etc', '/abs/path', '\0', '\u0001\u001f\u007f', '-', '.', ' ', '\\\\server\\share', '\u0085\u2028x', `${'ä'.repeat(300)}`];
    for (const t of nasty) {
      const n = name(t, t, t);
      // eslint-disable-next-line no-control-regex
      expect(n).not.toMatch(/[/\\\u0000-\u001f\u007f]/);
      expect(n).not.toMatch(/^[.-]/);
      expect(n).not.toMatch(/\.\./);
      expect(n.length).toBeGreaterThan(0);
      expect(Buffer.byteLength(n)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    }
  });
});

describe('truncateBytes and safeComponent', () => {
  it.each<[string, number, string]>([
    ['abc', 10, 'abc'],
    ['abcdef', 3, 'abc'],
    ['éé', 3, 'é'],
    ['👍🏽x', 4, ''],
    ['👍🏽x', 8, '👍🏽'],
    ['e\u0301e', 3, 'e\u0301'],
  ])('truncateBytes(%j, %i) → %j', (text, max, expected) => expect(truncateBytes(text, max)).toBe(expected));

  it('normalises to NFC', () => expect(safeComponent('e\u0301')).toBe('\u00e9'));
});

describe('the package folder on disk', () => {
  let dir: ReturnType<typeof tempDir> | undefined;
  afterEach(() => dir?.remove());

  it('creates the folder inside DOWNLOAD_DIR and reuses it for a resume', async () => {
    dir = tempDir('pf');
    const downloads = join(dir.path, 'downloads');
    const folder = await preparePackageFolder(downloads, name('t'));
    expect(folder).toBe(join(realpathSync(downloads), 'fx.example.com_42_t'));
    await expect(preparePackageFolder(downloads, name('t'))).resolves.toBe(folder);
  });

  it.each(['../x', '/etc', '..', '.', '', 'a/b', 'a\\b', 'a\0b'])('refuses the raw name %j', async (raw) => {
    dir = tempDir('pf');
    await expect(preparePackageFolder(dir.path, raw)).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
  });

  it('refuses a package folder that is a symlink to elsewhere', async () => {
    dir = tempDir('pf');
    const downloads = join(dir.path, 'downloads');
    const outside = join(dir.path, 'outside');
    mkdirSync(downloads);
    mkdirSync(outside);
    symlinkSync(outside, join(downloads, name('t')));
    await expect(preparePackageFolder(downloads, name('t'))).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
  });

  it('checkContained refuses a link inside the package that leads outside, and allows one that stays inside', async () => {
    dir = tempDir('pf');
    const folder = await preparePackageFolder(join(dir.path, 'd'), name('t'));
    mkdirSync(join(folder, 'sub'));
    writeFileSync(join(folder, 'sub', 'a'), 'x');
    symlinkSync(join(folder, 'sub', 'a'), join(folder, 'inside-link'));
    await expect(checkContained(join(dir.path, 'd'), folder)).resolves.toBeUndefined();
    symlinkSync('/etc', join(folder, 'sub', 'escape'));
    await expect(checkContained(join(dir.path, 'd'), folder)).rejects.toMatchObject({ code: 'UNSAFE_PATH', details: { entry: 'sub/escape' } });
  });

  it('checkContained notices a dangling link that points outside', async () => {
    dir = tempDir('pf');
    const folder = await preparePackageFolder(join(dir.path, 'd'), name('t'));
    symlinkSync('../../../nowhere/file', join(folder, 'dangling'));
    await expect(checkContained(join(dir.path, 'd'), folder)).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
  });
});

describe('the manifest', () => {
  let dir: ReturnType<typeof tempDir> | undefined;
  afterEach(() => dir?.remove());
  const link: PackageLink = { kind: 'faspex4-external', url: 'https://fx.example.com/aspera/faspex/external_deliveries/42?passcode=s3cr3tpass', server: 'fx.example.com', baseUrl: 'https://fx.example.com/aspera/faspex', packageId: '42', passcode: 's3cr3tpass' };

  it('is written atomically, masks the link, lists files, and finds the package before resolving', async () => {
    dir = tempDir('mf');
    const downloads = join(dir.path, 'd');
    const folder = await preparePackageFolder(downloads, name('Q3'));
    mkdirSync(join(folder, 'PKG - Q3'));
    writeFileSync(join(folder, 'PKG - Q3', 'b.bin'), Buffer.alloc(10));
    writeFileSync(join(folder, 'PKG - Q3', 'a.txt'), 'hello');
    expect(await findCompleted(downloads, link)).toBeUndefined();

    const files = await listFiles(folder);
    expect(files).toEqual([{ path: 'PKG - Q3/a.txt', size: 5 }, { path: 'PKG - Q3/b.bin', size: 10 }]);
    const m = buildManifest({ link, title: 'Q3', sender: 'alice@example.com' }, files, { startedAt: new Date(0), finishedAt: new Date(1000) });
    await writeManifestAtomic(folder, m);

    expect(readdirSync(folder).sort()).toEqual(['PKG - Q3', MANIFEST_NAME]);
    const text = readFileSync(join(folder, MANIFEST_NAME), 'utf8');
    expect(text).not.toContain('s3cr3tpass');
    expect(JSON.parse(text)).toMatchObject({ kind: 'faspex4-external', server: 'fx.example.com', packageId: '42', title: 'Q3', sender: 'alice@example.com', totalBytes: 15, startedAt: '1970-01-01T00:00:00.000Z', link: 'https://fx.example.com/aspera/faspex/external_deliveries/42?passcode=***' });
    expect(await readManifest(folder)).toEqual(m);
    await expect(findCompleted(downloads, link)).resolves.toMatchObject({ manifest: m });
    // Same prefix, other package: not confused with it.
    await expect(findCompleted(downloads, { ...link, packageId: '4' })).resolves.toBeUndefined();
    await expect(findCompleted(downloads, { ...link, kind: 'faspex4-received' })).resolves.toBeUndefined();
  });
});
