/**
 * `faspex-ingest download` as a user runs it: a child process against the Faspex simulator
 * (HTTPS, test CA) and the fake ascp, which checks the simulator's tokens.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FAKE_ASCP, alive, invocations, type Invocation } from '../../src/standins/fake-ascp/records.js';
import { createFaspexSim, type FaspexSim, type SimPackage } from '../../src/standins/faspex-sim/index.js';
import { BIN, runCli } from '../support/cli.js';
import { tempDir, waitFor } from '../support/temp.js';

interface World {
  sim: FaspexSim;
  pkg: SimPackage;
  env: Record<string, string>;
  root: string;
  downloads: string;
  invocations(): Invocation[];
}

async function world(options: { fail?: string; rateBps?: number; attempts?: number } = {}): Promise<World> {
  const dir = tempDir('cli-dl');
  onTestFinished(() => dir.remove());
  const sim = await createFaspexSim();
  onTestFinished(() => sim.close());
  const pkg = sim.addPackage({ title: 'Q3 report', files: { 'a.txt': 'hello', 'data/b.bin': 300_000 } });
  const key = join(dir.path, 'dummy_key');
  writeFileSync(key, 'dummy\n');
  const stateDir = join(dir.path, 'state');
  const downloads = join(dir.path, 'downloads');
  const env: Record<string, string> = {
    FASPEX_ALLOWED_HOSTS: sim.allowEntry,
    FASPEX_CA_FILE: sim.caFile,
    ASCP_PATH: FAKE_ASCP,
    ASCP_SSH_KEY: key,
    DOWNLOAD_DIR: downloads,
    DATA_DIR: join(dir.path, 'data'),
    DOWNLOAD_ATTEMPTS: String(options.attempts ?? 2),
    RETRY_BASE_SECONDS: '1',
    RETRY_MAX_SECONDS: '1',
    FAKE_FASPEX_SECRET: sim.tokenSecret,
    FAKE_ASCP_STORE: sim.storeDir,
    FAKE_ASCP_STATE_DIR: stateDir,
    FAKE_ASCP_RATE_BPS: String(options.rateBps ?? 4_000_000),
    FAKE_ASCP_FAIL: options.fail ?? 'ok',
  };
  return {
    sim, pkg, env, root: dir.path, downloads,
    invocations: () => invocations(stateDir),
  };
}

describe('faspex-ingest download', () => {
  it('downloads a package from the simulator, prints its folder, and the second run finds it complete', async () => {
    const w = await world();
    const r = await runCli(['download', w.pkg.links.external], { env: w.env, cwd: w.root });
    expect(r.stderr).not.toMatch(/faspex-ingest:/);
    expect(r.code).toBe(0);
    const folder = r.stdout.trim();
    expect(folder).toMatch(/downloads\/127\.0\.0\.1_\d+_\d+_Q3 report$/);
    expect(readFileSync(join(folder, 'PKG - Q3 report', 'a.txt'), 'utf8')).toBe('hello');
    expect(readdirSync(join(folder, 'PKG - Q3 report', 'data'))).toEqual(['b.bin']);
    const manifest = JSON.parse(readFileSync(join(folder, 'faspex-package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ kind: 'faspex4-external', title: 'Q3 report', totalBytes: 300_005 });
    // Not a terminal: plain progress lines, and a summary.
    expect(r.stderr).toMatch(/^progress: .* of 293 KiB \(100%\)/m);
    expect(r.stderr).toMatch(/^done: 2 file\(s\), 293 KiB in /m);
    for (const text of [r.stdout, r.stderr, JSON.stringify(w.invocations())]) expect(text).not.toContain(w.pkg.externalPasscode);
    expect(w.invocations()[0]!.envNames).toContain('ASPERA_SCP_TOKEN');

    const again = await runCli(['download', w.pkg.links.external], { env: w.env, cwd: w.root });
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(folder);
    expect(again.stderr).toMatch(/already complete/);
    expect(w.invocations()).toHaveLength(1);
  });

  it('--to DIR puts the package there', async () => {
    const w = await world();
    const r = await runCli(['download', '--to', 'elsewhere', w.pkg.links.external], { env: w.env, cwd: w.root });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().startsWith(join(w.root, 'elsewhere'))).toBe(true);
  });

  it('a permanent failure exits 1 with one line in plain words', async () => {
    const w = await world({ fail: 'code:4' });
    const r = await runCli(['download', w.pkg.links.external], { env: w.env, cwd: w.root });
    expect(r.code).toBe(1);
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^faspex-ingest: the package files do not exist on the server .*No such file or directory/);
    expect(w.invocations()).toHaveLength(1);
  });

  it('a transient failure is retried and the download completes', async () => {
    const w = await world({ fail: 'code:16@50%,ok' });
    const r = await runCli(['download', w.pkg.links.external], { env: w.env, cwd: w.root });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/attempt 1 of 2 failed: the connection to the transfer server was lost/);
    expect(w.invocations()).toHaveLength(2);
  });

  it('ascp missing: exit 1 saying what is missing and how to get it', async () => {
    const w = await world();
    const r = await runCli(['download', w.pkg.links.external], { env: { ...w.env, ASCP_PATH: join(w.root, 'no-ascp') }, cwd: w.root });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^faspex-ingest: ASCP_PATH=.*no-ascp is not an executable file .*Install IBM Aspera Connect/);
  });

  it('Ctrl-C stops ascp cleanly and exits 130', async () => {
    const w = await world({ rateBps: 100_000 });
    const child = spawn(process.execPath, [BIN, 'download', w.pkg.links.external], {
      cwd: w.root, env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...w.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    onTestFinished(() => void child.kill('SIGKILL'));
    await waitFor(() => /progress: /.test(stderr) || /file done|ascp connected/.test(stderr), { what: 'the transfer to start', timeoutMs: 20_000 });
    const [inv] = await waitFor(() => (w.invocations().length > 0 ? w.invocations() : undefined), { what: 'ascp to start' });
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted: stopping ascp/);
    expect(stderr.trim().split('\n').at(-1)).toMatch(/^faspex-ingest: .*cancelled/);
    expect(alive(inv!.pid)).toBe(false);
  });
});
