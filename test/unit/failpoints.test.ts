import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseFailpoints } from '../../src/service/failpoints.js';

describe('failpoints (test facility)', () => {
  it('reads names with an optional hit number', () => {
    expect(parseFailpoints(undefined)).toBeUndefined();
    expect(parseFailpoints(' ')).toBeUndefined();
    expect([...parseFailpoints('listener.after-enqueue@3, manifest.before-rename')!]).toEqual([
      ['listener.after-enqueue', 3],
      ['manifest.before-rename', 1],
    ]);
    expect(() => parseFailpoints('a b')).toThrow(/FASPEX_INGEST_FAILPOINTS/);
  });

  it('kills the process at the armed hit and not before; a no-op when unset', () => {
    const script = `import { failpoint } from './src/service/failpoints.ts';
      failpoint('manifest.before-rename'); console.log('after 1');
      failpoint('manifest.before-rename'); console.log('after 2');`;
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    const armed = run({ FASPEX_INGEST_FAILPOINTS: 'manifest.before-rename@2' });
    expect(armed.signal).toBe('SIGKILL');
    expect(armed.stdout).toBe('after 1\n');
    expect(armed.stderr).toContain('failpoint manifest.before-rename (hit 2): SIGKILL');
    const off = run({});
    expect(off.status).toBe(0);
    expect(off.stdout).toBe('after 1\nafter 2\n');
  });
});
