/**
 * A faspe:// link without a user (ascli: "Missing mandatory parameter: remote_user") is refused by
 * every command that takes one, with one line naming what is missing, before anything is
 * contacted or run. The worker's side is in download-processor.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FAKE_ASCP, invocations } from '../../src/standins/fake-ascp/records.js';
import { createFaspexSim } from '../../src/standins/faspex-sim/index.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const LINE = 'faspex-ingest: FASP URL: the user is missing (remote_user): the link must be faspe://USER@host[:port]/path\n';

async function setup() {
  const dir = tempDir('no-user');
  onTestFinished(() => dir.remove());
  const sim = await createFaspexSim();
  onTestFinished(() => sim.close());
  const pkg = sim.addPackage({ title: 'no user', files: { 'a.txt': 'hello' } });
  const withUser = pkg.links.faspUrl!;
  const noUser = withUser.replace(/^faspe:\/\/[^@/]+@/, 'faspe://');
  expect(noUser).not.toBe(withUser);
  const key = join(dir.path, 'key');
  writeFileSync(key, 'k\n');
  const stateDir = join(dir.path, 'ascp-state');
  const env = {
    FASPEX_ALLOWED_HOSTS: sim.allowEntry,
    FASPEX_USERNAME: sim.credentials.username,
    FASPEX_PASSWORD: sim.credentials.password,
    FASPEX_CA_FILE: sim.caFile,
    DOWNLOAD_DIR: join(dir.path, 'downloads'),
    DATA_DIR: join(dir.path, 'data'),
    ASCP_PATH: FAKE_ASCP,
    ASCP_SSH_KEY: key,
    FAKE_FASPEX_SECRET: sim.tokenSecret,
    FAKE_ASCP_STORE: sim.storeDir,
    FAKE_ASCP_STATE_DIR: stateDir,
    HOME: dir.path,
  };
  return { sim, withUser, noUser, run: (args: string[]) => runCli(args, { env, cwd: dir.path }), ascpRuns: () => invocations(stateDir) };
}

describe('a faspe:// link without a user', () => {
  it.each([['fasp-url'], ['resolve'], ['download']])('%s: exit 1, one line naming the missing user, nothing contacted or run', async (command) => {
    const { sim, withUser, noUser, run, ascpRuns } = await setup();
    const r = await run([command, noUser]);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: LINE });
    expect(sim.requests).toHaveLength(0);
    expect(ascpRuns()).toHaveLength(0);
    // the same link with its user goes through (so the refusal is about the user alone)
    const ok = await run([command, withUser]);
    expect(ok.stderr).not.toMatch(/user is missing/);
    expect(ok.code).toBe(0);
  });
});
