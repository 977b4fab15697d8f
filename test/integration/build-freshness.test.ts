import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COPIED = ['src', 'workers', 'bin', join('test', 'support'), join('scripts', 'build.mjs'), 'tsconfig.json', 'tsconfig.build.json', 'package.json'];
const MAIN = join('src', 'cli', 'program.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(project: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(project, 'bin', 'faspex-ingest'), ...args], { cwd: project, env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 240_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Edits the CLI's description in a copy's sources, the way a developer edits src/. */
function setDescription(project: string, text: string): void {
  const file = join(project, MAIN);
  const before = readFileSync(file, 'utf8');
  const after = before.replace(/\.description\('[^']*'\)/, `.description('${text}')`);
  expect(after, 'the description was replaced').not.toBe(before);
  writeFileSync(file, after);
}

/**
 * bin/ runs the compiled dist/, so an edited source must never run as its old self. Each case
 * works on a copy of the checkout (sources, bin/, the build script; node_modules linked).
 */
describe('bin/faspex-ingest and a stale dist/', () => {
  const dir = tempDir('build');
  const project = join(dir.path, 'checkout');

  beforeAll(() => {
    mkdirSync(join(project, 'scripts'), { recursive: true });
    mkdirSync(join(project, 'test'));
    // cp -a keeps mtimes to the nanosecond, so the copy's dist/ (built by global setup) is as
    // fresh as the original's: the fingerprint names paths relative to the checkout
    for (const p of [...COPIED, 'dist']) execFileSync('cp', ['-a', join(ROOT, p), join(project, p)]);
    symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
  });
  afterAll(() => dir.remove());

  // a build takes tens of seconds on two busy cores, minutes when the whole suite runs beside it
  it('runs a fresh dist/ as is, and rebuilds exactly once after an edit, even when two start at once', { timeout: 300_000 }, async () => {
    const first = await cli(project, ['--help']);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain('Turns IBM Aspera Faspex notification emails');

    setDescription(project, 'Edited one second ago.');
    const both = await Promise.all([cli(project, ['--help']), cli(project, ['--help'])]);
    for (const r of both) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Edited one second ago.');
    }
    // one built while the other waited on the lock, then found dist/ fresh
    expect(both.map((r) => r.stderr).sort()).toEqual(['', 'faspex-ingest: sources changed since dist/ was built; building it (npm run build)\n']);
  });

  it('stops with the command to run, never the old code, where typescript is not installed', { timeout: 300_000 }, async () => {
    // (dist/ is fresh after the case above; built here if that one did not run)
    expect(await cli(project, ['--help'])).toMatchObject({ code: 0 });
    // now node_modules without typescript, as after `npm ci --omit=dev`
    const prod = project;
    rmSync(join(prod, 'node_modules'));
    mkdirSync(join(prod, 'node_modules'));
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (name !== 'typescript' && name !== '.bin') symlinkSync(join(ROOT, 'node_modules', name), join(prod, 'node_modules', name));
    }
    expect(await cli(prod, ['--help'])).toMatchObject({ code: 0, stderr: '' });

    setDescription(prod, 'Never compiled.');
    const r = await cli(prod, ['--help']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('dist/ is older than the sources in src/');
    expect(r.stderr).toContain('Run: npm ci');
  });
});
