import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_COOKIE, SEED_SOURCE, SEED_URL } from '../support/fasp-fixtures.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const TOKEN = 'tok-CLI-5ecret-value';
const URL_WITH_TOKEN = `${SEED_URL}&token=${TOKEN}`;

describe('bin/faspex-ingest fasp-url', () => {
  let dir: ReturnType<typeof tempDir>;

  // Only what the CLI needs: no variables from the developer's shell leak in.
  const cli = (args: string[], extraEnv: Record<string, string> = {}) => runCli(args, { env: { HOME: dir.path, ...extraEnv }, cwd: dir.path });


  beforeAll(() => {
    dir = tempDir('cli-fasp-url');
  });
  afterAll(() => dir.remove());

  it('defaults to transfer-spec into DOWNLOAD_DIR (./downloads of the working directory), secrets masked', async () => {
    const r = await cli(['fasp-url', URL_WITH_TOKEN]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const spec = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(spec).toMatchObject({
      remote_host: 'acme-faspex',
      remote_user: 'faspex',
      direction: 'receive',
      paths: [{ source: SEED_SOURCE }],
      token: '***',
      cookie: '***',
      destination_root: join(dir.path, 'downloads'),
      resume_policy: 'sparse_csum',
      target_rate_cap_kbps: 100000,
    });
  });

  it.each([['transfer-spec'], ['ascp'], ['shell'], ['xferparams']])('--format %s: exit 0, secrets masked', async (format) => {
    const r = await cli(['fasp-url', URL_WITH_TOKEN, '--format', format, '--to', '/srv/dl']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('/srv/dl');
    expect(r.stdout).toContain('acme-faspex');
    expect(r.stdout).not.toContain(TOKEN);
    expect(r.stdout).not.toContain(SEED_COOKIE);
    expect(r.stdout).toContain('***');
  });

  it.each([['transfer-spec'], ['ascp'], ['shell'], ['xferparams']])('--format %s --show-secrets reveals them', async (format) => {
    const r = await cli(['fasp-url', URL_WITH_TOKEN, '--format', format, '--show-secrets']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(TOKEN);
    expect(r.stdout).toContain(SEED_COOKIE);
  });

  it('ascp: the seed example argv, cookie in env only, bwcap not in argv', async () => {
    const r = await cli(['fasp-url', SEED_URL, '--format', 'ascp', '--to', 'rel/dir', '--show-secrets']);
    expect(r.code).toBe(0);
    const { args, env: childEnv } = JSON.parse(r.stdout) as { args: string[]; env: Record<string, string> };
    const line = args.join(' ');
    for (const part of ['--mode recv', '--host acme-faspex', '--user faspex', '-P 33001', '-O 33001', '-l 45000', '-m 0', '--policy fair', '-c aes128']) {
      expect(line).toContain(part);
    }
    expect(args.slice(-2)).toEqual([SEED_SOURCE, join(dir.path, 'rel/dir')]);
    expect(childEnv).toEqual({ ASPERA_SCP_COOKIE: SEED_COOKIE });
    expect(line).not.toContain(SEED_COOKIE);
    expect(args).not.toContain('100000');
  });

  it('passes ASCP_SSH_KEY as -i when the link has a token', async () => {
    const r = await cli(['fasp-url', URL_WITH_TOKEN, '--format', 'ascp'], { ASCP_SSH_KEY: '/keys/aspera_bypass_rsa.pem' });
    expect(r.code).toBe(0);
    const { args } = JSON.parse(r.stdout) as { args: string[] };
    expect(args.slice(args.indexOf('-i'), args.indexOf('-i') + 2)).toEqual(['-i', '/keys/aspera_bypass_rsa.pem']);
  });

  it('shows the route a worker would take: HTTP fallback through the proxy, or a refusal for ASCP_WSS=always', async () => {
    const r = await cli(['fasp-url', URL_WITH_TOKEN, '--format', 'ascp'], { ASCP_HTTP_FALLBACK: 'always', HTTPS_PROXY: 'http://u:pw@proxy.corp:3128' });
    expect(r.code).toBe(0);
    const { args } = JSON.parse(r.stdout) as { args: string[] };
    expect(args[args.indexOf('-y') + 1]).toBe('1');
    expect(args[args.indexOf('-x') + 1]).toBe('http://proxy.corp:3128');
    // a Faspex 4 FASP URL never offers WSS
    const refused = await cli(['fasp-url', URL_WITH_TOKEN, '--format', 'ascp'], { ASCP_WSS: 'always' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ASCP_WSS=always, but the transfer spec for .* offers no WebSocket/);
  });

  it('reads DOWNLOAD_DIR from a .env in the working directory', async () => {
    const sub = tempDir('cli-fasp-url-env');
    try {
      writeFileSync(join(sub.path, '.env'), 'DOWNLOAD_DIR=/from/dotenv\n');
      const { stdout } = await runCli(['fasp-url', SEED_URL, '--format', 'transfer-spec'], { cwd: sub.path, env: { HOME: dir.path } });
      expect(JSON.parse(stdout)).toMatchObject({ destination_root: '/from/dotenv' });
    } finally {
      sub.remove();
    }
  });

  it.each([
    ['targetrate=foo', SEED_URL.replace('targetrate=45000', 'targetrate=foo'), /targetrate/],
    ['createpath=maybe', SEED_URL.replace('createpath=no', 'createpath=maybe'), /createpath/],
    ['https scheme', 'https://acme-faspex/x', /scheme/],
    ['two tokens', `${SEED_URL}&token=first-tok-AAAA&token=second-tok-BBBB`, /token is given more than once/],
  ])('a bad URL (%s) exits 1 with one line naming the parameter', async (_, url, pattern) => {
    const r = await cli(['fasp-url', url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^faspex-ingest: FASP URL: /);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toContain(SEED_COOKIE);
    expect(r.stderr).not.toMatch(/first-tok-AAAA|second-tok-BBBB/);
  });

  it('an unknown format exits 2 listing the allowed ones', async () => {
    const r = await cli(['fasp-url', SEED_URL, '--format', 'yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown format "yaml"; use one of: transfer-spec, ascp, shell, xferparams/);
  });

  it('a relative --to that begins with - becomes an absolute path, not an option', async () => {
    const r = await cli(['fasp-url', SEED_URL, '--to=-oops']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ destination_root: join(dir.path, '-oops') });
  });

  it('--help explains the formats with an example', async () => {
    const r = await cli(['fasp-url', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--format/);
    expect(r.stdout).toMatch(/xferparams/);
    expect(r.stdout).toMatch(/Example:/);
  });
});
