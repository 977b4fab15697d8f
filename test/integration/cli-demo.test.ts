import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

describe('demo', () => {
  const dir = tempDir('demo');
  afterAll(() => dir.remove());

  it('runs the whole pipeline on this machine and says which parts are stand-ins', async () => {
    const r = await runCli(['demo', '--dir', join(dir.path, 'd'), '--dashboard-port', '0', '--exit'], { cwd: dir.path, timeoutMs: 170_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('STAND-IN Faspex server');
    expect(r.stdout).toContain('STAND-IN ascp');
    expect(r.stdout).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    expect(r.stdout).toContain('all 3 sample packages are on disk.');
    const downloads = join(dir.path, 'd', 'downloads');
    const complete = readdirSync(downloads).filter((f) => existsSync(join(downloads, f, 'faspex-package.json')));
    expect(complete).toHaveLength(3);
    // the Safe Links-wrapped notification was unwrapped and downloaded like the others
    expect(complete.some((f) => f.endsWith('Agency deck'))).toBe(true);
  }, 180_000);

  it('names the missing tools and the apt-get line before starting anything', async () => {
    const emptyPath = join(dir.path, 'empty-path');
    mkdirSync(emptyPath);
    const r = await runCli(['demo', '--dir', join(dir.path, 'none'), '--dashboard-port', '0', '--exit'], { cwd: dir.path, env: { PATH: emptyPath } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('demo needs redis-server and openssl, not found on PATH');
    expect(r.stderr).toContain('apt-get install -y redis-server openssl');
    expect(existsSync(join(dir.path, 'none'))).toBe(false);
  });
});
