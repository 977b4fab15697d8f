import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OLD_GENERATION_FLAG, YOUNG_GENERATION_FLAG } from '../../src/service/node-memory.js';
import { freePort } from '../../src/service/redis-server.js';
import { BIN } from '../support/cli.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PRELOAD = fileURLToPath(new URL('../support/module-trace/preload.mjs', import.meta.url));

/** A module that means a TypeScript loader or TypeScript source is in the process. */
function isTypeScriptish(id: string): boolean {
  return /\/node_modules\/(tsx|esbuild|@esbuild|typescript|ts-node|@swc)\//.test(id) || /\.[cm]?tsx?$/.test(id.replace(/[?#].*$/, ''));
}

/**
 * `run` as a user starts it (`node bin/faspex-ingest run`) holds every role; after it is up,
 * its command line, execArgv and every module it loaded (ESM through a resolve hook, CommonJS
 * through require.cache) show compiled JavaScript from dist/ and no TypeScript loader.
 */
describe('the compiled runtime', () => {
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let service: ServiceProcess;
  const dir = tempDir('runtime');
  const trace = join(dir.path, 'modules.json');

  beforeAll(async () => {
    [dovecot, sim] = await Promise.all([startDovecot(), createFaspexSim()]);
    const env = serviceEnv({ redisUrl: inject('redisUrl'), prefix: uniqueName('rt'), dovecot, sim, dir: dir.path, dashboardPort: await freePort() });
    service = startServiceProcess(['run'], { ...env, NODE_OPTIONS: `--import=${PRELOAD}`, MODULE_TRACE_FILE: trace }, dir.path);
    await waitFor(() => service.output().includes('running; dashboard at'), { what: 'the service to start', timeoutMs: 30_000 });
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await Promise.all([dovecot?.stop(), sim?.close()]);
    dir.remove();
  });

  it('runs `run` from dist/ with no TypeScript loader', async () => {
    const pid = service.child.pid!;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    // On a Node with process.execve the same PID has relaunched itself once with the V8 heap
    // flags (src/service/node-memory.ts); on Node 20 it runs as started.
    const heapFlags = typeof (process as { execve?: unknown }).execve === 'function' ? [YOUNG_GENERATION_FLAG, OLD_GENERATION_FLAG] : [];
    expect(cmdline).toEqual([process.execPath, ...heapFlags, BIN, 'run']);
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    // the only preload is this test's own tracer
    expect(environ.filter((e) => e.startsWith('NODE_OPTIONS='))).toEqual([`NODE_OPTIONS=--import=${PRELOAD}`]);

    service.child.kill('SIGUSR2');
    const loaded = await waitFor(() => JSON.parse(readFileSync(trace, 'utf8')) as { execArgv: string[]; sourceMaps: boolean; cjs: string[] }, { what: 'the module trace' });
    expect(loaded.execArgv).toEqual(heapFlags);
    const esm = readFileSync(`${trace}.esm`, 'utf8').split('\n').filter(Boolean);
    const all = [...esm, ...loaded.cjs];
    expect(esm).toContain(new URL('dist/src/cli/main.js', `file://${ROOT}`).href);
    // every role was loaded (`run` holds them all), from dist/
    for (const role of ['downloader', 'listener', 'dashboard']) expect(esm).toContain(new URL(`dist/workers/${role}.js`, `file://${ROOT}`).href);
    expect(all.filter(isTypeScriptish)).toEqual([]);
    expect(all.filter((id) => id.includes(`${ROOT}src/`) || id.includes(`${ROOT}workers/`))).toEqual([]);
    expect(loaded.sourceMaps, 'source maps enabled').toBe(true);
    // loaded with their first use (no mail, no board request, no job yet): idle memory
    expect(all.filter((id) => /\/node_modules\/(@bull-board\/|mailparser\/|htmlparser2\/|execa\/|undici\/|fast-xml-parser\/)/.test(id))).toEqual([]);
  });

  it('logs JSON lines for log shippers when its output is not a terminal', () => {
    const logLines = service.output().split('\n').filter((l) => l.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(0);
    for (const l of logLines) expect(JSON.parse(l)).toMatchObject({ level: expect.any(String), msg: expect.any(String) });
  });

  it('maps a stack trace from dist/ back to the src/ line', () => {
    const script = `process.setSourceMapsEnabled(true);
      const { parseFaspUrl } = await import(${JSON.stringify(new URL('dist/src/fasp/fasp-url.js', `file://${ROOT}`).href)});
      try { parseFaspUrl('not a fasp url'); } catch (e) { console.log(e.stack); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const frames = r.stdout.split('\n').filter((l) => l.trim().startsWith('at '));
    expect(frames.some((f) => f.includes(`${ROOT}src/fasp/fasp-url.ts:`)), r.stdout).toBe(true);
    expect(frames.filter((f) => f.includes(`${ROOT}dist/`))).toEqual([]);
  });
});
