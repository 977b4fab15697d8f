/**
 * `faspex-ingest resolve` as an operator runs it: a child process, configured only through the
 * environment, against the Faspex simulator (FASPEX_CA_FILE pointing at the test CA).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { checkToken } from '../../src/standins/sim-token.js';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { tempDir } from '../support/temp.js';


async function setup(options: Parameters<typeof createFaspexSim>[0] = {}): Promise<{ sim: FaspexSim; env: Record<string, string>; cwd: string; run(args: string[], extra?: Record<string, string>): Promise<CliRun> }> {
  const sim = await createFaspexSim(options);
  onTestFinished(() => sim.close());
  const dir = tempDir('cli-resolve');
  onTestFinished(() => dir.remove());
  const env = { FASPEX_ALLOWED_HOSTS: sim.allowEntry, FASPEX_CA_FILE: sim.caFile, DOWNLOAD_DIR: `${dir.path}/downloads` };
  return { sim, env, cwd: dir.path, run: (args, extra = {}) => runCli(args, { env: { HOME: dir.path, ...env, ...extra }, cwd: dir.path }) };
}

describe('faspex-ingest resolve', () => {
  it('external link → transfer-spec JSON on stdout, secrets masked', async () => {
    const { sim, run } = await setup();
    const pkg = sim.addPackage({ title: 'Q3 report', files: { 'a.txt': 'hello' } });
    const r = await run(['resolve', pkg.links.external]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const spec = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(spec).toMatchObject({ remote_host: '127.0.0.1', direction: 'receive', paths: [{ source: pkg.sourcePath }], token: '***', cookie: '***' });
    expect(r.stdout).not.toContain(pkg.externalPasscode);
    expect(r.stdout).not.toContain('ATV2_sim');
    expect(r.stdout).not.toContain(pkg.cookie);
  });

  it('--show-secrets prints a token the fake ascp would accept', async () => {
    const { sim, run } = await setup();
    const pkg = sim.addPackage({ title: 'shown', files: { 'a.txt': 'hello' } });
    const r = await run(['resolve', '--show-secrets', pkg.links.external]);
    expect(r.code).toBe(0);
    const spec = JSON.parse(r.stdout) as { token: string; cookie: string };
    expect(checkToken(spec.token, sim.tokenSecret, pkg.sourcePath).ok).toBe(true);
    expect(spec.cookie).toBe(pkg.cookie);
  });

  it('received link with an account, --format ascp --to DIR: argv targets DIR, token only in env', async () => {
    const { sim, run, cwd } = await setup();
    const pkg = sim.addPackage({ title: 'inbox', files: { 'a.txt': 'hello' } });
    const { username, password } = sim.credentials;
    const r = await run(['resolve', '--format', 'ascp', '--to', 'here', pkg.links.received!], { FASPEX_USERNAME: username, FASPEX_PASSWORD: password });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { args: string[]; env: Record<string, string> };
    expect(out.args.at(-1)).toBe(`${cwd}/here`);
    expect(out.env.ASPERA_SCP_TOKEN).toBe('***');
    expect(r.stdout).not.toContain(password);
    expect(sim.requests.map((q) => q.method)).toEqual(['GET', 'POST']);
  });

  it('a Faspex 5 spec offering WSS: --format ascp shows --ws-connect on wss_port; ASCP_WSS=never shows SSH', async () => {
    const { sim, run } = await setup({ faspex5: { wssPort: 443 } });
    const pkg = sim.faspex5.addPackage({ title: 'wss', files: { 'a.txt': 'hello' } });
    const r = await run(['resolve', '--format', 'ascp', pkg.links.public]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { args: string[]; env: Record<string, string> };
    expect(out.args).toContain('--ws-connect');
    expect(out.args[out.args.indexOf('-P') + 1]).toBe('443');
    expect(out.args).not.toContain('-O');
    expect(out.env.ASPERA_SCP_TOKEN).toBe('***');

    const ssh = await run(['resolve', '--format', 'shell', pkg.links.public], { ASCP_WSS: 'never' });
    expect(ssh.code).toBe(0);
    expect(ssh.stdout).not.toContain('--ws-connect');
    expect(ssh.stdout).toContain("'-O' '33001'");
  });

  it('a failure is one masked line on stderr and exit status 1', async () => {
    const { sim, run } = await setup();
    const pkg = sim.addPackage({ title: 'gone', files: { 'a.txt': 'hello' } });
    sim.fault(pkg, { kind: 'html-login' });
    const r = await run(['resolve', pkg.links.external]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^faspex-ingest: the server answered with a web page instead of the package description: the link has expired, was already used, or the passcode is wrong\n$/);
    expect(r.stderr).not.toContain(pkg.externalPasscode);
  });

  it('a host outside FASPEX_ALLOWED_HOSTS is refused without a connection', async () => {
    const { sim, run } = await setup();
    const pkg = sim.addPackage({ title: 'x', files: { 'a.txt': 'hello' } });
    const r = await run(['resolve', pkg.links.external], { FASPEX_ALLOWED_HOSTS: 'faspex.example.com' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/127\.0\.0\.1:\d+ is not in FASPEX_ALLOWED_HOSTS/);
    expect(r.stderr).not.toContain(pkg.externalPasscode);
    expect(sim.connections).toBe(0);
  });

  it('without FASPEX_CA_FILE the test CA is not trusted (TLS); FASPEX_INSECURE_TLS=true works with a warning', async () => {
    const { sim, run } = await setup();
    const pkg = sim.addPackage({ title: 'tls', files: { 'a.txt': 'hello' } });
    const refused = await run(['resolve', pkg.links.external], { FASPEX_CA_FILE: '' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/could not be verified .*FASPEX_CA_FILE/);

    const insecure = await run(['resolve', pkg.links.external], { FASPEX_CA_FILE: '', FASPEX_INSECURE_TLS: 'true' });
    expect(insecure.code).toBe(0);
    expect(JSON.parse(insecure.stdout)).toMatchObject({ paths: [{ source: pkg.sourcePath }] });
    expect(insecure.stderr).toMatch(/FASPEX_INSECURE_TLS=true: Faspex HTTPS certificates are NOT verified/);
  });

  it('an unknown format is a usage error (exit 2), checked before any connection', async () => {
    const { sim, run } = await setup();
    const pkg = sim.addPackage({ title: 'x', files: { 'a.txt': 'hello' } });
    const r = await run(['resolve', '--format', 'yaml', pkg.links.external]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown format "yaml"/);
    expect(sim.connections).toBe(0);
  });
});
