/**
 * What a person sees: at a terminal (a real pseudo-terminal, test/support/terminal.ts) the
 * commands print human lines, and an expected failure reads as its code and message with no
 * stack; JSON log lines appear where asked (LOG_FORMAT=json, --log-format json) or where the
 * output is not a terminal.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FAKE_ASCP } from '../../src/standins/fake-ascp/records.js';
import { createFaspexSim, type FaspexSim, type SimPackage } from '../../src/standins/faspex-sim/index.js';
import { runCli } from '../support/cli.js';
import { runInTerminal } from '../support/terminal.js';
import { tempDir, uniqueName } from '../support/temp.js';

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
const jsonLines = (text: string) => lines(text).filter((l) => l.startsWith('{'));
const stackFrames = (text: string) => lines(text).filter((l) => /^\s+at /.test(l) || l.includes('node:internal'));

describe('log lines for a person, JSON for machines', () => {
  const dir = tempDir('logfmt');
  let sim: FaspexSim;
  let pkg: SimPackage;
  let env: Record<string, string>;

  beforeAll(async () => {
    sim = await createFaspexSim();
    pkg = sim.addPackage({ title: 'Q3 report', files: { 'a.txt': 'hello' } });
    const key = join(dir.path, 'dummy_key');
    writeFileSync(key, 'dummy\n');
    env = {
      FASPEX_ALLOWED_HOSTS: sim.allowEntry,
      FASPEX_CA_FILE: sim.caFile,
      ASCP_PATH: FAKE_ASCP,
      ASCP_SSH_KEY: key,
      DOWNLOAD_DIR: join(dir.path, 'downloads'),
      DATA_DIR: join(dir.path, 'data'),
      DOWNLOAD_ATTEMPTS: '1',
      FAKE_FASPEX_SECRET: sim.tokenSecret,
      FAKE_ASCP_STORE: sim.storeDir,
      FAKE_ASCP_STATE_DIR: join(dir.path, 'state'),
      // the example: ascp refuses the login (code 19), with the log at info
      FAKE_ASCP_FAIL: 'code:19',
      LOG_LEVEL: 'info',
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: uniqueName('logfmt'),
    };
  });
  afterAll(async () => {
    await sim?.close();
    dir.remove();
  });

  it('download at a terminal: human lines only, the failure as code and message, no stack', async () => {
    const r = await runInTerminal(['download', pkg.links.external], { env, cwd: dir.path });
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout)).toEqual([]);
    expect(stackFrames(r.stdout)).toEqual([]);
    expect(r.stdout).toMatch(/^package resolved \(.*title="Q3 report"/m);
    expect(r.stdout).toMatch(/^download attempt failed: TRANSFER_FAILED: the transfer server refused the login \(ascp error 19 AUTH/m);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^faspex-ingest: the transfer server refused the login/);
    expect(r.stdout).not.toContain(pkg.externalPasscode);
  });

  it('download into a pipe: JSON log lines, and the expected failure still carries no stack', async () => {
    const r = await runCli(['download', pkg.links.external], { env, cwd: dir.path });
    expect(r.code).toBe(1);
    const records = jsonLines(r.stderr).map((l) => JSON.parse(l) as { msg: string; err?: Record<string, unknown> });
    const failed = records.find((x) => x.msg === 'download attempt failed');
    expect(failed?.err).toMatchObject({ type: 'IngestError', code: 'TRANSFER_FAILED', message: expect.stringContaining('refused the login') });
    expect(failed?.err).not.toHaveProperty('stack');
    expect(stackFrames(r.stderr)).toEqual([]);
  });

  it('JSON at a terminal when asked: LOG_FORMAT=json or --log-format json', async () => {
    for (const [extraEnv, args] of [
      [{ LOG_FORMAT: 'json' }, ['download', pkg.links.external]],
      [{}, ['--log-format', 'json', 'download', pkg.links.external]],
    ] as const) {
      const r = await runInTerminal([...args], { env: { ...env, ...extraEnv }, cwd: dir.path });
      expect(r.code).toBe(1);
      expect(jsonLines(r.stdout).map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('download attempt failed');
    }
    // and human lines into a pipe when asked
    const human = await runCli(['download', pkg.links.external], { env: { ...env, LOG_FORMAT: 'human' }, cwd: dir.path });
    expect(jsonLines(human.stderr)).toEqual([]);
    expect(human.stderr).toMatch(/^download attempt failed: TRANSFER_FAILED: /m);
  });

  it('resolve, enqueue and status at a terminal print human lines only', async () => {
    const resolve = await runInTerminal(['resolve', '--format', 'shell', pkg.links.external], { env, cwd: dir.path });
    expect(resolve.code).toBe(0);
    expect(resolve.stdout).toMatch(/^package resolved \(/m);
    expect(resolve.stdout).toMatch(/; ascp '-i' /);
    const enqueue = await runInTerminal(['enqueue', pkg.links.external], { env, cwd: dir.path });
    expect(enqueue.code).toBe(0);
    expect(enqueue.stdout).toMatch(/^queued /m);
    const status = await runInTerminal(['status'], { env, cwd: dir.path });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^downloads: 1 waiting/m);
    for (const r of [resolve, enqueue, status]) {
      expect(jsonLines(r.stdout)).toEqual([]);
      expect(stackFrames(r.stdout)).toEqual([]);
    }
  });

  it('refuses an unknown --log-format before doing anything', async () => {
    const r = await runCli(['--log-format', 'xml', 'status'], { env, cwd: dir.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--log-format.*xml.*auto, json, human/s);
  });
});
