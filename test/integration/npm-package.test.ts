/**
 * The npm package as a user gets it: `npm pack` of this checkout, `npm install -g` of the tarball
 * into a throwaway prefix on the Node that runs this test (CI runs it on both of its Node lines),
 * and the installed command run from an unrelated folder. npm's own cache (filled by `npm ci`)
 * and --prefer-offline keep the install from downloading again what the checkout already has.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SLOW_MS = 600_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? SLOW_MS, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('the npm package', () => {
  const tmp = tempDir('npm-package');
  const prefix = join(tmp.path, 'prefix');
  const elsewhere = join(tmp.path, 'elsewhere');
  const bin = join(prefix, 'bin', 'faspex-ingest');
  /** what a user's shell gives the installed command: no npm_* variables of this test run */
  const userEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn' });
  let files: string[] = [];
  let install: Run;

  beforeAll(async () => {
    mkdirSync(elsewhere);
    const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp.path], { cwd: ROOT });
    expect(pack.code, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    files = info!.files.map((f) => f.path);
    const tarball = join(tmp.path, info!.filename);
    install = await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: elsewhere, env: userEnv() });
  }, SLOW_MS + 60_000);
  afterAll(() => tmp.remove());

  it('holds the compiled program and the demo, and no tests, benchmarks, sources or images', () => {
    expect(files).toContain('bin/faspex-ingest');
    expect(files).toContain('dist/src/cli/main.js');
    // the one-shot commands' bundle and the help texts recorded by the build
    expect(files).toContain('dist/one-shot/one-shot.js');
    expect(files).toContain('dist/one-shot/help.json');
    expect(files).toContain('dist/src/standins/fake-ascp/ascp');
    expect(files).toContain('dist/src/standins/dovecot/dovecot.conf.template');
    expect(files).toContain('README.md');
    const unwanted = files.filter((f) => /^(test|bench|src|scripts|coverage)\//.test(f) || /^dist\/(test|bench)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || /\.(png|jpe?g|gif|svg)$/.test(f));
    expect(unwanted).toEqual([]);
    expect(files.filter((f) => f.includes('.tsbuildinfo') || f.includes('.build-stamp'))).toEqual([]);
  });

  it('installs globally without a warning, install scripts included', () => {
    expect(install.code, install.stderr).toBe(0);
    expect(install.stderr).not.toMatch(/install-scripts|warn/i);
    expect(existsSync(bin)).toBe(true);
    const installed = join(prefix, 'lib', 'node_modules', 'faspex-ingest');
    expect(statSync(join(installed, 'dist', 'src', 'standins', 'fake-ascp', 'ascp')).mode & 0o111).not.toBe(0);
    // no source checkout: bin/ runs dist/ without trying to rebuild it
    expect(readdirSync(installed).sort()).not.toContain('src');
  });

  it('answers --help, fasp-url and extract from any folder', async () => {
    const help = await run(bin, ['--help'], { cwd: elsewhere, env: userEnv() });
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: faspex-ingest');
    const url = await run(bin, ['fasp-url', 'faspe://xfer@faspex.example.com:33001/aspera/faspex?token=abc'], { cwd: elsewhere, env: userEnv() });
    expect(url.stderr).toBe('');
    expect(url.code).toBe(0);
    expect(JSON.parse(url.stdout)).toMatchObject({ remote_host: 'faspex.example.com', remote_user: 'xfer', ssh_port: 33001, token: '***' });
    // the bundle finds the installed package's own dependencies (a Shift_JIS part loads libmime)
    const mail = join(elsewhere, 'notification.eml');
    const link = 'https://faspex.example.com/aspera/faspex/external_deliveries/7?passcode=0123456789abcdef0123456789abcdef01234567';
    writeFileSync(mail, `From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=shift_jis\r\n\r\n${link}\r\n`);
    const extract = await run(bin, ['extract', '--show-secrets', mail], { cwd: elsewhere, env: userEnv() });
    expect(extract).toEqual({ code: 0, stdout: `${JSON.stringify({ url: link, kind: 'faspex4-external' })}\n`, stderr: '' });
  }, 120_000);

  it('runs demo --exit to its three packages from any folder', async () => {
    const demo = await run(bin, ['demo', '--exit', '--dashboard-port', '0'], { cwd: elsewhere, env: userEnv(), timeoutMs: 240_000 });
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('all 3 sample packages are on disk.');
    const downloads = join(elsewhere, 'faspex-ingest-demo', 'downloads');
    expect(readdirSync(downloads).filter((f) => existsSync(join(downloads, f, 'faspex-package.json')))).toHaveLength(3);
  }, 300_000);
});
