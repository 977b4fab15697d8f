/** The fake ascp itself: its token check matches the simulator's, and it behaves like ascp on argv and text output. */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FAKE_ASCP } from '../support/fake-ascp-harness.js';
// @ts-expect-error: plain JS twin without types
import { checkToken as checkTokenJs } from '../../src/standins/fake-ascp/sim-token.mjs';
import { checkToken, mintToken } from '../../src/standins/sim-token.js';
import { tempDir } from '../support/temp.js';

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(FAKE_ASCP, args, { env: { PATH: process.env.PATH, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) }));
  });
}

describe('the fake ascp', () => {
  it('checks tokens exactly like src/standins/sim-token.ts', () => {
    const path = '/u.aspera-package/PKG - t';
    const cases: Array<[string, string, string, number]> = [
      [mintToken({ path, exp: 2000 }, 's'), 's', path, 1000],
      [mintToken({ path, exp: 2000 }, 's'), 's', `${path}/`, 1000],
      [mintToken({ path, exp: 2000 }, 's'), 'other', path, 1000],
      [mintToken({ path, exp: 2000 }, 's'), 's', path, 3000],
      [mintToken({ path, exp: 2000 }, 's'), 's', '/other', 1000],
      ['ATV2_sim.garbage', 's', path, 1000],
      ['ATV2_sim.bm90LWpzb24.sig', 's', path, 1000],
    ];
    for (const [token, secret, p, now] of cases) {
      expect(checkTokenJs(token, secret, p, now)).toEqual(checkToken(token, secret, p, now));
    }
  });

  it('refuses an unknown option like ascp\'s usage error', async () => {
    const r = await run(['--no-such-option', 'src', '/tmp'], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ascp: unrecognized option '--no-such-option'\nUsage: ascp/);
  });

  it('takes --file-list and --dest64, and prints ascp-like text without -q', async () => {
    const dir = tempDir('fake');
    onTestFinished(() => dir.remove());
    const src = '/x.aspera-package/PKG - t';
    mkdirSync(join(dir.path, 'store', 'x.aspera-package', 'PKG - t'), { recursive: true });
    writeFileSync(join(dir.path, 'store', 'x.aspera-package', 'PKG - t', 'f.txt'), 'data');
    writeFileSync(join(dir.path, 'list'), src);
    writeFileSync(join(dir.path, 'key'), 'k');
    const dest = join(dir.path, 'dest');
    const env = { FAKE_FASPEX_SECRET: 's', FAKE_ASCP_STORE: join(dir.path, 'store'), ASPERA_SCP_TOKEN: mintToken({ path: src, exp: Date.now() + 60_000 }, 's') };
    const ok = await run(['-i', join(dir.path, 'key'), '-d', '-k', '2', '--mode', 'recv', '--host', 'h', `--file-list=${join(dir.path, 'list')}`, '--dest64', Buffer.from(dest).toString('base64')], env);
    expect(ok.code).toBe(0);
    expect(readFileSync(join(dest, 'PKG - t', 'f.txt'), 'utf8')).toBe('data');
    expect(ok.stdout).toMatch(/\rPKG - t\/f\.txt +100% +0KB/);
    expect(ok.stdout).toMatch(/Completed: 0K bytes transferred in \d+ seconds\n \(\d+K bits\/sec\), in 1 file\.\n$/);

    const denied = await run(['-i', join(dir.path, 'key'), '-d', '--mode', 'recv', '--host', 'h', src, dest], { ...env, FAKE_FASPEX_SECRET: 'wrong' });
    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(/Session Stop {2}\(Error: Management authorization refused: token denied by server \(bad-signature\)\)/);
  });
});
