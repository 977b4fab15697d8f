/** `faspex-ingest boxes` as a process against the Faspex 5 stand-in. */
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

async function setup(boxes: string[]) {
  const sim: FaspexSim = await createFaspexSim({ users: { alice: 'a-pw-1', bob: 'b-pw-2' } });
  onTestFinished(() => sim.close());
  const dir = tempDir('cli-boxes');
  onTestFinished(() => dir.remove());
  sim.faspex5.addBox('shared_inbox', 'Desk', { alice: 'standard' });
  sim.faspex5.addBox('workgroup', 'Drop', { alice: 'submit_only' });
  const api = sim.faspex5.addApiClient({ user: 'alice' });
  const json = JSON.parse(sim.faspex5.clientsJson(join(dir.path, 'keys'), [api])) as Record<string, Record<string, unknown>>;
  for (const v of Object.values(json)) v.boxes = boxes;
  const env = { FASPEX_ALLOWED_HOSTS: sim.allowEntry, FASPEX_CA_FILE: sim.caFile, FASPEX5_CLIENTS: JSON.stringify(json), DATA_DIR: join(dir.path, 'data') };
  return { sim, api, env, cwd: dir.path };
}

describe('faspex-ingest boxes', () => {
  it('lists each box with what a sweep would queue, queuing nothing (--json too)', async () => {
    const { sim, env, cwd } = await setup(['inbox', 'shared_inbox:Desk']);
    sim.faspex5.addPackage({ title: 'mine', files: { 'a.txt': 'a' }, recipients: ['alice'] });
    const gone = sim.faspex5.addPackage({ title: 'going', files: { 'a.txt': 'a' }, recipients: ['alice'] });
    sim.faspex5.setStatus(gone, 'expiring');
    sim.faspex5.addPackage({ title: 'desk one', files: { 'a.txt': 'a' }, recipients: [{ name: 'Desk', type: 'shared_inbox' }] });
    const text = await runCli(['boxes'], { env, cwd });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/inbox: 2 package\(s\) \(1 (completed|expiring), 1 (completed|expiring)\); a sweep would queue 0; first sweep: remembers 2 without downloading/);
    expect(text.stdout).toMatch(/shared_inbox:Desk \(id \d+\): 1 package\(s\) \(1 completed\)/);
    const json = await runCli(['boxes', '--json'], { env: { ...env, FASPEX5_CLIENTS: env.FASPEX5_CLIENTS.replace('"boxes":["inbox","shared_inbox:Desk"]', '"boxes":["inbox","shared_inbox:Desk"],"backfill":"all"') }, cwd });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.servers[0].boxes.map((b: { box: string; wouldQueue: unknown[] }) => [b.box, b.wouldQueue.length])).toEqual([['inbox', 1], ['shared_inbox:Desk', 1]]);
    expect(sim.requests.some((r) => r.path.includes('transfer_spec'))).toBe(false);
  });

  it('an unknown box name and a submit-only box: a clear error each, a failing exit status', async () => {
    const { env, cwd } = await setup(['workgroup:Nope', 'workgroup:Drop', 'shared_inbox:Desk']);
    const run = await runCli(['boxes'], { env, cwd });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toMatch(/workgroup:Nope: ERROR box workgroup:Nope is not among the workgroups that user alice belongs to/);
    expect(run.stdout).toMatch(/workgroup:Drop: ERROR user alice may not read box workgroup:Drop .*submit-only/);
    expect(run.stdout).toMatch(/shared_inbox:Desk \(id \d+\): 0 package/);
    expect(run.stderr).toMatch(/2 box\(es\) cannot be read/);
  });

  it('a refused JWT: the server\'s words, once per server', async () => {
    const { sim, api, env, cwd } = await setup(['inbox', 'shared_inbox:Desk']);
    sim.faspex5.state.apiClients.delete(api.clientId);
    const run = await runCli(['boxes'], { env, cwd });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toMatch(/inbox: ERROR Faspex server .* refused the JWT of API client .* \(401 invalid_grant\)/);
    expect(run.stdout).not.toContain('shared_inbox:Desk');
  });
});
