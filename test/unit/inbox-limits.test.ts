import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDownloadFolder, resolveDownloadDir } from '../../src/ascp/download-subfolder.js';
import { coveredBy } from '../../src/config/allowlist-cover.js';
import { parseAllowlist } from '../../src/faspex/allowlist.js';

describe('a mailbox allowlist stays within FASPEX_ALLOWED_HOSTS', () => {
  const service = parseAllowlist('faspex.example.com, *.studio.example, http://plain.example:8080');
  it.each([
    ['faspex.example.com', true],
    ['FASPEX.example.com', true],
    ['other.example.com', false],
    ['faspex.example.com:8443', false],
    ['http://faspex.example.com', false],
    ['a.studio.example', true],
    ['deep.a.studio.example', true],
    ['*.studio.example', true],
    ['*.a.studio.example', true],
    ['studio.example', false],
    ['*.other.example', false],
    ['http://plain.example:8080', true],
    ['plain.example:8080', false],
  ])('%s → %s', (entry, expected) => {
    expect(coveredBy(parseAllowlist(entry)[0]!, service)).toBe(expected);
  });
});

describe('an inbox download folder', () => {
  it.each([
    ['studio-a', { ok: true, folder: 'studio-a' }],
    ['clients/b/', { ok: true, folder: 'clients/b' }],
    ['Client B 2026', { ok: true, folder: 'Client B 2026' }],
    ['', { ok: false }],
    ['/srv/x', { ok: false }],
    ['C:/x', { ok: false }],
    ['a\\b', { ok: false }],
    ['../x', { ok: false }],
    ['a/../../x', { ok: false }],
    ['a/./b', { ok: false }],
    ['a//b', { ok: false }],
    ['.hidden', { ok: false }],
    ['-rf', { ok: false }],
    ['a:b', { ok: false }],
    ['bidi\u202eevil', { ok: false }],
    ['a/b/c/d/e', { ok: false }],
  ])('%j', (raw, expected) => {
    expect(checkDownloadFolder(raw)).toMatchObject(expected);
  });

  const root = mkdtempSync(join(tmpdir(), 'fi-subdir-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is made inside DOWNLOAD_DIR, and a job naming a way out is refused without writing anything there', async () => {
    const downloads = join(root, 'downloads');
    const outside = join(root, 'outside');
    mkdirSync(outside);
    expect(await resolveDownloadDir(downloads, undefined)).toBe(downloads);
    expect(await resolveDownloadDir(downloads, 'clients/b')).toBe(join(downloads, 'clients', 'b'));
    await expect(resolveDownloadDir(downloads, '../outside')).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    // a link planted inside DOWNLOAD_DIR: followed by mkdir -p, it would create outside/x
    symlinkSync(outside, join(downloads, 'planted'));
    await expect(resolveDownloadDir(downloads, 'planted/x')).rejects.toMatchObject({ code: 'UNSAFE_PATH', message: expect.stringContaining('resolves outside DOWNLOAD_DIR') });
    expect(existsSync(join(outside, 'x'))).toBe(false);
  });
});
