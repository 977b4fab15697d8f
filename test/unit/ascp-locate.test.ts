import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ascpCandidates, locateAscp, sshKeyCandidates } from '../../src/ascp/locate.js';
import { IngestError } from '../../src/errors.js';
import { tempDir } from '../support/temp.js';

const base = { home: '/home/u', platform: 'linux' as NodeJS.Platform, cwd: '/work' };

describe('ascpCandidates', () => {
  it.each<[string, { configured?: string; pathVar?: string; platform?: NodeJS.Platform }, string[]]>([
    ['ASCP_PATH absolute wins alone', { configured: '/x/ascp', pathVar: '/usr/bin' }, ['/x/ascp']],
    ['ASCP_PATH relative to cwd', { configured: 'tools/ascp' }, ['/work/tools/ascp']],
    ['ASCP_PATH bare name looked up on PATH', { configured: 'ascp4', pathVar: '/a:/b' }, ['/a/ascp4', '/b/ascp4']],
    ['PATH then the IBM folders', { pathVar: '/usr/local/bin:relative:/usr/bin' }, [
      '/usr/local/bin/ascp', '/usr/bin/ascp', '/home/u/.aspera/sdk/ascp', '/home/u/.aspera/connect/bin/ascp',
      '/opt/aspera/connect/bin/ascp', '/opt/aspera/bin/ascp', '/opt/aspera/sdk/ascp',
    ]],
    ['no PATH', {}, ['/home/u/.aspera/sdk/ascp', '/home/u/.aspera/connect/bin/ascp', '/opt/aspera/connect/bin/ascp', '/opt/aspera/bin/ascp', '/opt/aspera/sdk/ascp']],
  ])('%s', (_name, input, expected) => {
    expect(ascpCandidates({ ...base, ...input }).map((c) => c.path)).toEqual(expected);
  });

  it('adds the macOS Connect and HSTS folders on darwin', () => {
    const paths = ascpCandidates({ ...base, platform: 'darwin' }).map((c) => c.path);
    expect(paths).toContain('/home/u/Applications/IBM Aspera Connect.app/Contents/Resources/ascp');
    expect(paths).toContain('/Library/Aspera/bin/ascp');
  });
});

describe('sshKeyCandidates', () => {
  it('ASCP_SSH_KEY wins alone', () => {
    expect(sshKeyCandidates(['/opt/aspera/bin/ascp'], { configured: 'keys/k', cwd: '/work' }).map((c) => c.path)).toEqual(['/work/keys/k']);
  });

  it('beside ascp (and beside its real file), then ../etc, ../var, then HSTS', () => {
    expect(sshKeyCandidates(['/usr/local/bin/ascp', '/opt/aspera/bin/ascp'], { cwd: '/' }).map((c) => c.path)).toEqual([
      '/usr/local/bin/aspera_tokenauth_id_rsa', '/usr/local/bin/aspera_bypass_rsa.pem',
      '/usr/local/etc/aspera_tokenauth_id_rsa', '/usr/local/etc/aspera_bypass_rsa.pem',
      '/usr/local/var/aspera_tokenauth_id_rsa', '/usr/local/var/aspera_bypass_rsa.pem',
      '/opt/aspera/bin/aspera_tokenauth_id_rsa', '/opt/aspera/bin/aspera_bypass_rsa.pem',
      '/opt/aspera/etc/aspera_tokenauth_id_rsa', '/opt/aspera/etc/aspera_bypass_rsa.pem',
      '/opt/aspera/var/aspera_tokenauth_id_rsa', '/opt/aspera/var/aspera_bypass_rsa.pem',
    ]);
  });
});

describe('locateAscp', () => {
  let dir: ReturnType<typeof tempDir> | undefined;
  afterEach(() => dir?.remove());

  const downloads = (over: { ascpPath?: string; ascpSshKey?: string } = {}) => ({ dir: '/tmp', stallSeconds: 300, ascpPath: undefined, ascpSshKey: undefined, ...over });

  it('finds ascp on PATH and the key beside it', async () => {
    dir = tempDir('locate');
    const bin = join(dir.path, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'ascp'), '#!/bin/sh\n');
    chmodSync(join(bin, 'ascp'), 0o755);
    writeFileSync(join(bin, 'aspera_bypass_rsa.pem'), 'key');
    await expect(locateAscp(downloads(), { PATH: bin, HOME: dir.path })).resolves.toEqual({ path: join(bin, 'ascp'), sshKeyPath: join(bin, 'aspera_bypass_rsa.pem') });
  });

  it('says what is missing and how to get it', async () => {
    dir = tempDir('locate');
    const err = await locateAscp(downloads(), { PATH: dir.path, HOME: dir.path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngestError);
    expect(err).toMatchObject({ code: 'ASCP_NOT_FOUND', retry: 'never' });
    expect((err as Error).message).toMatch(/ascp was not found \(looked at .*\/ascp.*\)\. Install IBM Aspera Connect.*ASCP_PATH/);
  });

  it('refuses a non-executable ASCP_PATH and a missing ASCP_SSH_KEY by name', async () => {
    dir = tempDir('locate');
    const ascp = join(dir.path, 'ascp');
    writeFileSync(ascp, 'not executable');
    await expect(locateAscp(downloads({ ascpPath: ascp }), { PATH: '', HOME: dir.path })).rejects.toThrow(/ASCP_PATH=.* is not an executable file/);
    chmodSync(ascp, 0o755);
    const err = await locateAscp(downloads({ ascpPath: ascp, ascpSshKey: join(dir.path, 'nokey') }), { PATH: '', HOME: dir.path }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SSH_KEY_NOT_FOUND', retry: 'never' });
    expect((err as Error).message).toMatch(/ASCP_SSH_KEY=.*nokey is not a readable file.*aspera_tokenauth_id_rsa/);
  });
});
