import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { invocations } from '../../src/standins/fake-ascp/records.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { runCli } from '../support/cli.js';
import type { ServiceProcess } from '../support/service-process.js';
import { serviceStack, type ServiceStack } from '../support/service-stack.js';
import { waitFor } from '../support/temp.js';

/**
 * Issue 22 through the real `run`: mail in Dovecot → job in Redis → the Faspex simulator →
 * the fake ascp → the check after the transfer. Encrypted packages (decrypted, passphrase
 * missing before or after the transfer, passphrase wrong), a filter, and a transfer whose files
 * are damaged after ascp wrote them.
 */
type JobEntry = { package: string | null; state: string; reason: string | null; attempts: number; folder: string | null };

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function jobsOf(env: Record<string, string>, cwd: string): Promise<JobEntry[]> {
  const s = await runCli(['status', '--json', '-n', '100'], { env, cwd });
  return s.code === 0 ? (JSON.parse(s.stdout).jobs as JobEntry[]) : [];
}

async function settled(env: Record<string, string>, cwd: string, packageId: string, what: string): Promise<JobEntry> {
  return waitFor(async () => (await jobsOf(env, cwd)).find((j) => j.package === packageId && (j.state === 'completed' || j.state === 'failed')),
    { what, timeoutMs: 150_000, intervalMs: 300 });
}

const runsFor = (stateDir: string, uuid: string) => invocations(stateDir).filter((i) => (i.sources ?? []).join('\n').includes(uuid));

/** A `run` of its own for a describe block, on a stack of its own; `extra` may write files into the folder first. */
function ownRun(label: string, extra: (dir: string) => Record<string, string>) {
  const stack = serviceStack(label, { env: (base, { dir }) => ({ ...base, ...extra(dir.path) }) }) as ServiceStack & { service: ServiceProcess };
  beforeAll(async () => {
    stack.service = await stack.run();
  }, 90_000);
  return stack;
}

// generous: the machine may be loaded many times over (each test waits on events, never on time)
describe('run: encrypted packages', { timeout: 180_000 }, () => {
  const ANA = 'open sesame 1';
  const s = ownRun('pv-enc', (dir) => {
    writeFileSync(join(dir, 'ana.pass'), `${ANA}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'passphrases.json'), JSON.stringify({
      'sender:ana@studio.example': { passphraseFile: 'ana.pass' },
      'sender:@wrong.example': { passphraseEnv: 'WRONG_PASSPHRASE' },
    }));
    return { DECRYPT_PASSPHRASES_FILE: join(dir, 'passphrases.json'), WRONG_PASSPHRASE: 'not the one', DOWNLOAD_ATTEMPTS: '3' };
  });

  it('decrypts a Faspex 5 package (ear_enabled) with the sender\'s passphrase, only through ASPERA_SCP_FILEPASS', async () => {
    const movie = Buffer.from('MOVIE-BYTES-'.repeat(5000));
    const pkg = s.sim.faspex5.addPackage({ title: 'Sealed cut', files: { 'cut.mov': movie, 'notes/read me.txt': 'hello' }, sender: 'ana@studio.example', passphrase: ANA });
    await s.dovecot.deliver(faspex4Notification({ link: pkg.links.public, title: 'Sealed cut' }));
    const job = await settled(s.env, s.dir.path, pkg.id, 'the encrypted package');
    expect(job).toMatchObject({ state: 'completed' });
    const folder = job.folder!;
    expect(readFileSync(join(folder, 'PKG - Sealed cut', 'cut.mov'))).toEqual(movie);
    const manifest = JSON.parse(readFileSync(join(folder, 'faspex-package.json'), 'utf8'));
    expect(manifest).toMatchObject({ decrypted: true, keptEncrypted: false, verifiedAgainstServer: true });
    expect(manifest.files).toEqual([
      { path: 'PKG - Sealed cut/cut.mov', size: movie.length, sha256: sha(movie) },
      { path: 'PKG - Sealed cut/notes/read me.txt', size: 5, sha256: sha('hello') },
    ]);
    const runs = runsFor(s.env.FAKE_ASCP_STATE_DIR!, pkg.stored.uuid);
    expect(runs).toHaveLength(1);
    const run = runs[0];
    expect(run!.argv).toEqual(expect.arrayContaining(['--file-crypt=decrypt', '--fail-bad-filepass', '--file-checksum=sha-256']));
    expect(run!.envNames).toContain('ASPERA_SCP_FILEPASS');
    // the passphrase is nowhere but in ascp's environment
    expect(JSON.stringify(run)).not.toContain(ANA);
    expect(s.service.output()).not.toContain(ANA);
    expect(readFileSync(join(folder, 'faspex-package.json'), 'utf8')).not.toContain(ANA);
    expect((await runCli(['status', '--json'], { env: s.env, cwd: s.dir.path })).stdout).not.toContain(ANA);
    expect((await runCli(['verify', folder], { env: s.env, cwd: s.dir.path })).code).toBe(0);
  });

  it('fails a package known to be encrypted at once when no passphrase applies, naming the settings (PASSPHRASE_MISSING), before any byte moves', async () => {
    const pkg = s.sim.faspex5.addPackage({ title: 'No key', files: { 'a.mov': 'x'.repeat(1000) }, sender: 'zed@nowhere.example', passphrase: 'unknown to us' });
    await s.dovecot.deliver(faspex4Notification({ link: pkg.links.public, title: 'No key' }));
    const job = await settled(s.env, s.dir.path, pkg.id, 'the package without a passphrase');
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(/\[PASSPHRASE_MISSING\]$/);
    expect(job.reason).toContain('"sender:zed@nowhere.example"');
    expect(job.reason).toContain('DECRYPT_PASSPHRASE');
    expect(job.attempts).toBe(1);
    expect(runsFor(s.env.FAKE_ASCP_STATE_DIR!, pkg.stored.uuid)).toEqual([]);
  });

  it('a wrong passphrase fails as ascp reports it (code 49 with --fail-bad-filepass), once, naming where it came from (PASSPHRASE_WRONG)', async () => {
    const pkg = s.sim.faspex5.addPackage({ title: 'Wrong key', files: { 'a.mov': 'y'.repeat(1000) }, sender: 'bo@wrong.example', passphrase: 'the real one' });
    await s.dovecot.deliver(faspex4Notification({ link: pkg.links.public, title: 'Wrong key' }));
    const job = await settled(s.env, s.dir.path, pkg.id, 'the package with a wrong passphrase');
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(/\[PASSPHRASE_WRONG\]$/);
    expect(job.reason).toContain('"sender:@wrong.example"');
    expect(job.reason).toContain('ascp error 49');
    expect(job.reason).not.toContain('not the one');
    // not retried blindly: one ascp run, and nothing written
    expect(runsFor(s.env.FAKE_ASCP_STATE_DIR!, pkg.stored.uuid)).toHaveLength(1);
  });

  it('where the server did not say (no file list), encrypted files found after the transfer are named (PASSPHRASE_MISSING)', async () => {
    const pkg = s.sim.addPackage({ title: 'Quiet', files: { 'cut.mov': 'z'.repeat(2000), 'mix.wav': 'w'.repeat(100) }, sender: 'f4@nowhere.example', passphrase: 'p4', fileLinks: false });
    await s.dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: 'Quiet' }));
    const job = await settled(s.env, s.dir.path, pkg.externalDeliveryId, 'the package encrypted without notice');
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(/\[PASSPHRASE_MISSING\]$/);
    expect(job.reason).toContain('PKG - Quiet/cut.mov.aspera-env, PKG - Quiet/mix.wav.aspera-env');
    expect(runsFor(s.env.FAKE_ASCP_STATE_DIR!, pkg.uuid)).toHaveLength(1);
  });
});

describe('run: a transfer damaged after ascp wrote it; a filter', { timeout: 180_000 }, () => {
  // run 1 (first package): damaged; run 2: repaired; runs 3 and 4 (second package): damaged
  // twice; then undamaged (the filter). FILE_EXCLUDE makes every transfer a file pair list.
  const s = ownRun('pv-tamper', () => ({ FAKE_ASCP_FAIL: 'tamper,ok,tamper,tamper,ok', DOWNLOAD_ATTEMPTS: '2', WORKER_CONCURRENCY: '1', FILE_EXCLUDE: '*.tmp' }));

  it('catches a truncated and a deleted file, repairs them on the retry, and verify DIR fails on a later tamper', async () => {
    const pkg = s.sim.addPackage({ title: 'Reels', files: { 'a.bin': 100_000, 'b.bin': 50_000, 'c.txt': 'c' } });
    await s.dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: 'Reels' }));
    const job = await settled(s.env, s.dir.path, pkg.externalDeliveryId, 'the damaged package');
    expect(job).toMatchObject({ state: 'completed', attempts: 2 });
    const failure = s.service.output().split('\n').find((l) => l.includes('"code":"VERIFY_FAILED"'));
    expect(failure).toContain('missing: PKG - Reels/b.bin');
    expect(failure).toContain('size differs: PKG - Reels/a.bin (expected 100000 bytes, found 50000)');
    expect(runsFor(s.env.FAKE_ASCP_STATE_DIR!, pkg.uuid)).toHaveLength(2);

    const folder = job.folder!;
    const manifest = JSON.parse(readFileSync(join(folder, 'faspex-package.json'), 'utf8'));
    const bytes = readFileSync(join(pkg.dir, 'a.bin'));
    expect(manifest.files[0]).toEqual({ path: 'PKG - Reels/a.bin', size: 100_000, sha256: sha(bytes) });
    expect(manifest.verifiedAgainstServer).toBe(true);

    const verify = () => runCli(['verify', folder], { env: s.env, cwd: s.dir.path });
    const clean = await verify();
    expect(clean).toMatchObject({ code: 0 });
    expect(clean.stdout).toMatch(/^ok: 3 file\(s\) match/);

    // later: the same size with other bytes, a deleted file, a stray one, a longer one
    const c = join(folder, 'PKG - Reels', 'c.txt');
    writeFileSync(c, 'C');
    rmSync(join(folder, 'PKG - Reels', 'b.bin'));
    writeFileSync(join(folder, 'PKG - Reels', 'stray.txt'), 'x');
    appendFileSync(join(folder, 'PKG - Reels', 'a.bin'), 'more');
    const tampered = await verify();
    expect(tampered.code).toBe(1);
    expect(tampered.stdout.trim().split('\n')).toEqual([
      'missing: PKG - Reels/b.bin',
      'extra: PKG - Reels/stray.txt',
      'size differs: PKG - Reels/a.bin (expected 100000 bytes, found 100004)',
      'SHA-256 differs: PKG - Reels/c.txt',
    ]);
    expect(existsSync(join(folder, 'faspex-package.json'))).toBe(true);
  });

  it('fails with VERIFY_FAILED naming the files when the retries cannot repair them', async () => {
    const pkg = s.sim.addPackage({ title: 'Broken disk', files: { 'x.bin': 20_000, 'y.bin': 10_000 } });
    await s.dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: 'Broken disk' }));
    const job = await settled(s.env, s.dir.path, pkg.externalDeliveryId, 'the package damaged twice');
    expect(job.state).toBe('failed');
    expect(job.attempts).toBe(2);
    expect(job.reason).toMatch(/^the package on disk does not match the server's list of its files: /);
    expect(job.reason).toContain('missing: PKG - Broken disk/y.bin');
    expect(job.reason).toContain('size differs: PKG - Broken disk/x.bin');
  });

  it('FILE_EXCLUDE: the excluded files never move, the manifest lists them, and verification expects only the rest', async () => {
    const pkg = s.sim.addPackage({ title: 'Filtered', files: { 'a.mov': 3000, 'b.wav': 'wav', 'junk.tmp': 'tmp', 'sub/c.tmp': 'tmp2', 'sub/d.mov': 'dmov' } });
    await s.dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: 'Filtered' }));
    const job = await settled(s.env, s.dir.path, pkg.externalDeliveryId, 'the filtered package');
    expect(job.state).toBe('completed');
    const manifest = JSON.parse(readFileSync(join(job.folder!, 'faspex-package.json'), 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(['PKG - Filtered/a.mov', 'PKG - Filtered/b.wav', 'PKG - Filtered/sub/d.mov']);
    expect(manifest.skipped).toEqual([{ path: 'junk.tmp', size: 3 }, { path: 'sub/c.tmp', size: 4 }]);
    expect(manifest).toMatchObject({ verifiedAgainstServer: true, decrypted: false });
    const [run] = runsFor(s.env.FAKE_ASCP_STATE_DIR!, pkg.uuid);
    expect(run!.argv.some((a) => a.startsWith('--file-pair-list='))).toBe(true);
    expect(readdirSync(job.folder!, { recursive: true }).map(String).filter((p) => p.endsWith('.tmp'))).toEqual([]);
  });
});

describe('run: DECRYPT=never keeps encrypted packages encrypted, on purpose', { timeout: 180_000 }, () => {
  const SECRET = 'would decrypt it';
  // a passphrase that applies, so that only DECRYPT=never keeps ascp from decrypting
  const s = ownRun('pv-never', () => ({ DECRYPT: 'never', DECRYPT_PASSPHRASE: SECRET }));

  it('a package the server says is encrypted completes with its files as ascp received them, and the manifest says so', async () => {
    const pkg = s.sim.faspex5.addPackage({ title: 'Kept sealed', files: { 'cut.mov': 'C'.repeat(3000), 'notes.txt': 'hi' }, sender: 'ana@studio.example', passphrase: SECRET });
    await s.dovecot.deliver(faspex4Notification({ link: pkg.links.public, title: 'Kept sealed' }));
    const job = await settled(s.env, s.dir.path, pkg.id, 'the package kept encrypted');
    expect(job).toMatchObject({ state: 'completed', attempts: 1 });
    const manifest = JSON.parse(readFileSync(join(job.folder!, 'faspex-package.json'), 'utf8'));
    expect(manifest).toMatchObject({ decrypted: false, keptEncrypted: true });
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(['PKG - Kept sealed/cut.mov.aspera-env', 'PKG - Kept sealed/notes.txt.aspera-env']);
    // still encrypted on disk: not the plain bytes
    expect(readFileSync(join(job.folder!, 'PKG - Kept sealed', 'cut.mov.aspera-env'))).not.toEqual(Buffer.from('C'.repeat(3000)));
    const [run] = runsFor(s.env.FAKE_ASCP_STATE_DIR!, pkg.stored.uuid);
    expect(run!.argv.some((a) => a.startsWith('--file-crypt'))).toBe(false);
    expect(run!.envNames).not.toContain('ASPERA_SCP_FILEPASS');
    expect((await runCli(['verify', job.folder!], { env: s.env, cwd: s.dir.path })).code).toBe(0);
  });

  it('a package encrypted without notice completes too, kept encrypted, instead of failing for a passphrase', async () => {
    const pkg = s.sim.addPackage({ title: 'Quiet kept', files: { 'mix.wav': 'w'.repeat(500) }, sender: 'f4@nowhere.example', passphrase: 'p4', fileLinks: false });
    await s.dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: 'Quiet kept' }));
    const job = await settled(s.env, s.dir.path, pkg.externalDeliveryId, 'the package encrypted without notice');
    expect(job.state).toBe('completed');
    const manifest = JSON.parse(readFileSync(join(job.folder!, 'faspex-package.json'), 'utf8'));
    expect(manifest).toMatchObject({ decrypted: false, keptEncrypted: true });
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(['PKG - Quiet kept/mix.wav.aspera-env']);
  });
});
