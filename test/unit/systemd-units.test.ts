/**
 * deploy/systemd checked with `systemd-analyze verify` (unknown keys, values it cannot parse,
 * missing executables: it warns on stderr and still exits 0, so the test reads stderr), and the
 * facts the units rest on: the restart policy that item 3's restart makes safe, SIGTERM to node
 * alone, the stop times of docs/deployment.md (the same as the Kubernetes grace periods), one
 * hardening block for all, writable paths that hold DATA_DIR and DOWNLOAD_DIR.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'deploy', 'systemd');
const UNITS = readdirSync(DIR).filter((f) => f.endsWith('.service')).sort();
const text = (unit: string) => readFileSync(join(DIR, unit), 'utf8');
const values = (unit: string, key: string) => text(unit).split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
const value = (unit: string, key: string) => values(unit, key).at(-1);

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('deploy/systemd', () => {
  const scratch = tempDir('systemd');
  afterAll(() => scratch.remove());

  /** the units as installed, with ExecStart pointing at this checkout's bin (verify wants it to exist) */
  const installed = (edit: (s: string) => string = (s) => s) =>
    UNITS.map((u) => {
      const path = join(scratch.path, u);
      writeFileSync(path, edit(text(u).replaceAll('/usr/local/bin/faspex-ingest', BIN)));
      return path;
    });

  it('has a unit per way of running it', () => {
    expect(UNITS).toEqual(['faspex-ingest-dashboard.service', 'faspex-ingest-listen.service', 'faspex-ingest-work.service', 'faspex-ingest.service']);
    expect(UNITS.map((u) => value(u, 'ExecStart')!.split(' ').at(-1))).toEqual(['dashboard', 'listen', 'work', 'run']);
  });

  it.skipIf(!hasAnalyze)('systemd-analyze verify finds nothing to say', () => {
    const r = spawnSync('systemd-analyze', ['verify', ...installed()], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it.skipIf(!hasAnalyze)('systemd-analyze verify can fail: a misspelt key, a time it cannot read', () => {
    const [unit] = installed((s) => s.replace('ProtectSystem=strict', 'ProtectSytem=strict').replace(/^TimeoutStopSec=\d+/m, 'TimeoutStopSec=a minute'));
    const r = spawnSync('systemd-analyze', ['verify', unit!], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toContain("Unknown key 'ProtectSytem'");
    expect(r.stderr).toContain('Failed to parse');
  });

  it.each(UNITS)('%s: restarts always, except on a configuration error; SIGTERM to node alone', (unit) => {
    expect(value(unit, 'Restart')).toBe('always');
    // src/cli/main.ts: EXIT.usage is what a configuration error exits with
    expect(value(unit, 'RestartPreventExitStatus')).toBe('2');
    expect(value(unit, 'KillMode')).toBe('mixed');
    expect(value(unit, 'KillSignal')).toBe('SIGTERM');
  });

  // the stop times of docs/deployment.md, which the Kubernetes manifests use too
  const k8s = (file: string) => (parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'kubernetes', file), 'utf8'))[0]!.toJS() as { spec: { template: { spec: { terminationGracePeriodSeconds: number } } } }).spec.template.spec.terminationGracePeriodSeconds;
  it.each([
    ['faspex-ingest.service', 60, undefined],
    ['faspex-ingest-listen.service', 30, 'listener.yaml'],
    ['faspex-ingest-work.service', 60, 'workers.yaml'],
    ['faspex-ingest-dashboard.service', 15, 'dashboard.yaml'],
  ] as const)('%s: TimeoutStopSec=%i, as the Kubernetes grace period', (unit, seconds, manifest) => {
    expect(Number(value(unit, 'TimeoutStopSec'))).toBe(seconds);
    if (manifest) expect(k8s(manifest)).toBe(seconds);
  });

  it('all units share one hardening block, and may write only DATA_DIR and DOWNLOAD_DIR', () => {
    const block = (u: string) => text(u).slice(text(u).indexOf('# Hardening.'), text(u).indexOf('[Install]'));
    for (const u of UNITS) expect(block(u), u).toBe(block('faspex-ingest.service'));
    const u = 'faspex-ingest.service';
    expect(value(u, 'ProtectSystem')).toBe('strict');
    expect(value(u, 'NoNewPrivileges')).toBe('yes');
    // V8's JIT needs writable executable memory
    expect(value(u, 'MemoryDenyWriteExecute')).toBeUndefined();
    expect(value(u, 'StateDirectory')).toBe('faspex-ingest');
    expect(values(u, 'Environment')).toContain('DATA_DIR=/var/lib/faspex-ingest');
    const writable = value(u, 'ReadWritePaths')!.split(' ');
    const downloadDir = readFileSync(join(DIR, 'faspex-ingest.env'), 'utf8').match(/^DOWNLOAD_DIR=(.*)$/m)![1]!;
    expect(writable.some((w) => downloadDir.startsWith(`${w}/`))).toBe(true);
  });

  it.each(UNITS)('%s: every secret is a credential behind a NAME_FILE variable, none in the environment', (unit) => {
    const creds = values(unit, 'LoadCredential').map((c) => c.split(':')[0]);
    const files = values(unit, 'Environment').filter((e) => /^[A-Z_]+_FILE=/.test(e));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(creds, f).toContain(f.slice(f.indexOf('%d/') + 3));
    expect(values(unit, 'Environment').filter((e) => /PASSWORD=|REDIS_URL=/.test(e))).toEqual([]);
  });
});
