/**
 * Transfers through firewalls, against the fake ascp and its simulated firewall
 * (FAKE_ASCP_BLOCKED): the runner picks WSS, SSH + UDP or HTTP fallback (with its proxy) as the
 * settings and the transfer spec say, and a run where every allowed path is blocked ends in a
 * classified TRANSFER_BLOCKED that says what was tried and what is left.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { downloadPackage } from '../../src/ascp/download-package.js';
import { setupFakeAscp, type SetupOptions } from '../support/fake-ascp-harness.js';
import { ingestFailure } from '../support/ingest-failure.js';

const WSS_PORT = 9093;
const OFFERS_WSS = { wss_enabled: true, wss_port: WSS_PORT };

function run(options: SetupOptions) {
  const s = setupFakeAscp({ wssPort: WSS_PORT, ...options });
  return { s, download: () => downloadPackage(s.link, s.ctx()) };
}

const argvOf = (s: ReturnType<typeof setupFakeAscp>) => s.invocations()[0]!.argv;
const valueAfter = (argv: string[], flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);

describe('WSS (ascp --ws-connect)', () => {
  it('a spec with wss_enabled gets through a firewall that blocks SSH and UDP, over WSS on wss_port', async () => {
    const { s, download } = run({ spec: OFFERS_WSS, blocked: 'ssh,udp' });
    const result = await download();
    expect(existsSync(join(result.folder, 'PKG - package', 'a.txt'))).toBe(true);
    const argv = argvOf(s);
    expect(argv).toContain('--ws-connect');
    expect(valueAfter(argv, '-P')).toBe(String(WSS_PORT));
    expect(argv).not.toContain('-O');
    expect(s.routes().map((x) => x.route)).toEqual(['wss']);
    // the token never in argv
    expect(argv.join(' ')).not.toContain(s.tokens[0]!);
  });

  it('refused by ASCP_WSS=never: SSH and UDP are tried, blocked, and the error says WSS was on offer', async () => {
    const { s, download } = run({ spec: OFFERS_WSS, blocked: 'ssh,udp', env: { ASCP_WSS: 'never' } });
    const e = await ingestFailure(download());
    expect(argvOf(s)).not.toContain('--ws-connect');
    expect(e).toMatchObject({ code: 'TRANSFER_BLOCKED', retry: 'later', details: { ascpCode: 12, session: 'ssh' } });
    expect(e.message).toMatch(/could not get through to the transfer server 127\.0\.0\.1 \(tried SSH to 127\.0\.0\.1:33001 \(TCP\), data on UDP 33001\)/);
    expect(e.message).toMatch(/the server offers WSS on port 9093: set ASCP_WSS=auto/);
    expect(e.message).toMatch(/Failed to open TCP connection for SSH/);
  });

  it('ASCP_WSS=always with a spec that offers none: a permanent error, ascp never runs', async () => {
    const { s, download } = run({ env: { ASCP_WSS: 'always' } });
    const e = await ingestFailure(download());
    expect(e).toMatchObject({ code: 'NOT_SUPPORTED', retry: 'never' });
    expect(s.invocations()).toEqual([]);
  });

  it('the wrong WSS port is refused by the fake like a closed port', async () => {
    const { download } = run({ spec: { wss_enabled: true, wss_port: WSS_PORT + 1 } });
    const e = await ingestFailure(download());
    expect(e).toMatchObject({ code: 'TRANSFER_BLOCKED', details: { session: 'wss' } });
    expect(e.message).toMatch(/tried WebSocket \(WSS\) to 127\.0\.0\.1:9094 \(TCP\)/);
    expect(e.message).toMatch(/Connection refused/);
  });

  it('WSS blocked unless through a proxy: ASCP_PROXY gives ascp -x and it gets through', async () => {
    const blocked = await ingestFailure(run({ spec: OFFERS_WSS, blocked: 'wss-direct,ssh,udp' }).download());
    expect(blocked).toMatchObject({ code: 'TRANSFER_BLOCKED' });
    expect(blocked.message).toMatch(/set ASCP_PROXY \(or HTTPS_PROXY\)/);

    const { s, download } = run({ spec: OFFERS_WSS, blocked: 'wss-direct,ssh,udp', env: { ASCP_PROXY: 'http://proxy.corp.example:3128' } });
    await download();
    expect(valueAfter(argvOf(s), '-x')).toBe('http://proxy.corp.example:3128');
    expect(s.routes()).toMatchObject([{ route: 'wss', proxy: 'http://proxy.corp.example:3128' }]);
  });
});

describe('HTTP fallback (-y, -t, -x)', () => {
  it('UDP blocked, fallback off in the spec: TRANSFER_BLOCKED pointing at ASCP_HTTP_FALLBACK', async () => {
    const { download } = run({ blocked: 'udp', spec: { http_fallback: false } });
    const e = await ingestFailure(download());
    expect(e).toMatchObject({ code: 'TRANSFER_BLOCKED', retry: 'later', details: { ascpCode: 44 } });
    expect(e.message).toMatch(/ASCP_HTTP_FALLBACK=always/);
    expect(e.message).toMatch(/UDP session initiation fatal error/);
  });

  it('UDP blocked, ASCP_HTTP_FALLBACK=always: -y 1 and the download goes over HTTP', async () => {
    const { s, download } = run({ blocked: 'udp', spec: { http_fallback: false, http_fallback_port: 8443 }, env: { ASCP_HTTP_FALLBACK: 'always' } });
    await download();
    expect(valueAfter(argvOf(s), '-y')).toBe('1');
    expect(valueAfter(argvOf(s), '-t')).toBe('8443');
    expect(s.routes().map((x) => x.route)).toEqual(['ssh+http']);
  });

  it('HTTP only through the proxy: HTTPS_PROXY becomes -x (without its login) and the download gets through', async () => {
    const env = { ASCP_HTTP_FALLBACK: 'force', HTTPS_PROXY: 'http://ingest:s3cret@127.0.0.1:3128' };
    const { s, download } = run({ blocked: 'udp,http-direct', env });
    await download();
    const argv = argvOf(s);
    expect(valueAfter(argv, '-y')).toBe('F');
    expect(valueAfter(argv, '-x')).toBe('http://127.0.0.1:3128');
    expect(argv.join(' ')).not.toContain('s3cret');
    expect(s.routes()).toMatchObject([{ route: 'ssh+http', proxy: 'http://127.0.0.1:3128' }]);
  });

  it('…and with the transfer host in NO_PROXY, no -x: blocked, and told so', async () => {
    const env = { ASCP_HTTP_FALLBACK: 'force', HTTPS_PROXY: 'http://127.0.0.1:3128', NO_PROXY: '127.0.0.1' };
    const { s, download } = run({ blocked: 'udp,http-direct', env });
    const e = await ingestFailure(download());
    expect(argvOf(s)).not.toContain('-x');
    expect(e).toMatchObject({ code: 'TRANSFER_BLOCKED', details: { ascpCode: 47 } });
    expect(e.message).toMatch(/give HTTP fallback a proxy/);
  });
});

describe('every path blocked', () => {
  it.each<[string, SetupOptions, number]>([
    ['SSH blocked, no WSS on offer', { blocked: 'ssh' }, 12],
    ['SSH and WSS blocked', { blocked: 'ssh,wss', spec: OFFERS_WSS }, 12],
    ['UDP and HTTP blocked, fallback on', { blocked: 'udp,http', env: { ASCP_HTTP_FALLBACK: 'always' } }, 47],
  ])('%s → TRANSFER_BLOCKED (ascp code %i), retried later', async (_what, options, ascpCode) => {
    const e = await ingestFailure(run(options).download());
    expect(e).toMatchObject({ code: 'TRANSFER_BLOCKED', retry: 'later', details: { ascpCode } });
    expect(e.message).toMatch(/a firewall most likely blocks it/);
  });
});
