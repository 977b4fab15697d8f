/**
 * A Faspex 5 notification whose link is only in the HTML "Download Package" button, through the
 * real pieces: mail extractor → resolver (Faspex 5 client, simulator over HTTPS) →
 * downloadPackage with the fake ascp, which checks the simulator's transfer token.
 * (The IMAP listener and queue in front of this are covered by the service tests.)
 */
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { describe, expect, it, onTestFinished } from 'vitest';
import { downloadPackage } from '../../src/ascp/download-package.js';
import { MANIFEST_NAME } from '../../src/ascp/manifest.js';
import { loadConfig } from '../../src/config/config.js';
import { createResolver } from '../../src/faspex/resolver.js';
import { createLogger } from '../../src/log/logger.js';
import { extractPackageLinks } from '../../src/mail/extract/index.js';
import { FAKE_ASCP } from '../support/fake-ascp-harness.js';
import { createFaspexSim, type FaspexSimOptions } from '../../src/standins/faspex-sim/index.js';
import { tempDir } from '../support/temp.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/mail/f5-received-button.eml', import.meta.url));

async function setup(sim: FaspexSimOptions = {}) {
  const s = await createFaspexSim(sim);
  onTestFinished(() => s.close());
  const dir = tempDir('f5e2e');
  onTestFinished(() => dir.remove());
  const key = join(dir.path, 'aspera_tokenauth_id_rsa');
  writeFileSync(key, 'dummy key: the fake ascp only checks that it exists\n');
  const wrapper = join(dir.path, 'ascp');
  const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  const env = { FAKE_FASPEX_SECRET: s.tokenSecret, FAKE_ASCP_STORE: s.storeDir, FAKE_ASCP_STATE_DIR: dir.path, FAKE_ASCP_RATE_BPS: '8000000', FAKE_ASCP_FAIL: 'ok' };
  writeFileSync(wrapper, `#!/bin/sh\n${Object.entries(env).map(([k, v]) => `export ${k}=${q(v)}`).join('\n')}\nexec ${q(process.execPath)} ${q(FAKE_ASCP)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } });
  const config = loadConfig({
    FASPEX_ALLOWED_HOSTS: s.allowEntry, FASPEX_CA_FILE: s.caFile, DOWNLOAD_DIR: join(dir.path, 'downloads'), DATA_DIR: join(dir.path, 'data'),
  }, 'download', dir.path);
  const resolver = createResolver(config.faspex, logger);
  onTestFinished(() => resolver.close());
  const ctx = { config, logger, resolver, ascp: { path: wrapper, sshKeyPath: key }, timing: { connectTimeoutMs: 5_000, sessionStartMs: 10_000, graceMs: 2_000 } };
  return { sim: s, ctx, logs, downloads: join(dir.path, 'downloads') };
}

/** The fixture mail with its button pointing at `link` (HTML-escaped, as mail clients write it). */
async function notification(link: string) {
  const eml = readFileSync(FIXTURE, 'utf8').replace(/href="https:\/\/faspex5\.example\.com[^"]*"/, `href="${link.replace(/&/g, '&amp;')}&amp;redirected=true"`);
  expect(eml).not.toContain('faspex5.example.com/aspera');
  return simpleParser(eml);
}

describe('Faspex 5 notification → files on disk', () => {
  it.each([['oauth-code'], ['passcode-header']] as const)('the button link of a "Received package" mail downloads (%s)', async (auth) => {
    const { sim, ctx, logs, downloads } = await setup({ faspex5: { auth } });
    const pkg = sim.faspex5.addPackage({ title: 'Trailer final', files: { 'trailer.mov': 250_000, 'notes/readme.txt': 'cut 3' }, sender: 'jane@example.com' });

    const { links } = await extractPackageLinks(await notification(pkg.links.public));
    expect(links.map((l) => [l.kind, l.packageId])).toEqual([['faspex5-public', pkg.id]]);

    const result = await downloadPackage(links[0]!, ctx);
    expect(result.folder.startsWith(downloads)).toBe(true);
    expect(readdirSync(result.folder).sort()).toEqual(['PKG - Trailer final', MANIFEST_NAME]);
    const got = join(result.folder, 'PKG - Trailer final');
    expect(readFileSync(join(got, 'trailer.mov')).equals(readFileSync(join(pkg.stored.dir, 'trailer.mov')))).toBe(true);
    expect(readFileSync(join(got, 'notes', 'readme.txt'), 'utf8')).toBe('cut 3');
    expect(result.manifest).toMatchObject({ kind: 'faspex5-public', packageId: pkg.id, title: 'Trailer final', sender: 'jane@example.com' });

    const manifest = readFileSync(join(result.folder, MANIFEST_NAME), 'utf8');
    for (const text of [manifest, ...logs]) {
      expect(text).not.toContain(pkg.passcode);
      expect(text).not.toContain(pkg.context);
    }
  });

  it('an expired link fails once, permanently, with the server\'s words and no transfer', async () => {
    const { sim, ctx } = await setup();
    const pkg = sim.faspex5.addPackage({ title: 'late', files: { 'a.txt': 'a' } });
    sim.faspex5.fault(pkg, { kind: 'expired' });
    const { links } = await extractPackageLinks(await notification(pkg.links.public));
    await expect(downloadPackage(links[0]!, ctx)).rejects.toMatchObject({ code: 'LINK_EXPIRED', retry: 'never', message: expect.stringContaining('This link has expired.') });
  });
});
