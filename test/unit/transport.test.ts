import { describe, expect, it } from 'vitest';
import { decideOutcome, type RunEnd } from '../../src/ascp/progress.js';
import { IngestError } from '../../src/errors.js';
import { buildAscpCommand } from '../../src/fasp/ascp-command.js';
import { formatTransfer } from '../../src/fasp/formats.js';
import type { TransferSpec } from '../../src/fasp/transfer-spec.js';
import { describePaths, planTransport, unblockAdvice, type TransportSettings } from '../../src/fasp/transport.js';

const DEST = '/srv/downloads/pkg';
const KEY = '/opt/aspera/var/aspera_tokenauth_id_rsa';
/** a Faspex 5 download spec, as its API gives it */
const F5: TransferSpec = {
  direction: 'receive', remote_host: 'fx.example.com', remote_user: 'faspex', ssh_port: 33001, fasp_port: 33001,
  paths: [{ source: '/pkg' }], token: 'Bearer-t0ken-secret', sshfp: 'SHA256:abc', http_fallback: false, http_fallback_port: 8443,
  wss_enabled: true, wss_port: 443,
};
const NO_WSS: TransferSpec = { ...F5, wss_enabled: false };
const settings = (over: Partial<TransportSettings> = {}): TransportSettings => ({ wss: 'auto', httpFallback: 'auto', ...over });
const PROXY = { httpsProxy: 'http://ingest:pw@proxy.corp:3128', noProxy: 'internal.corp' };

describe('planTransport', () => {
  it.each<[string, TransferSpec, Partial<TransportSettings>, Partial<ReturnType<typeof planTransport>>]>([
    ['WSS offered, auto: WSS on its port, no UDP', F5, {}, { session: 'wss', tcpPort: 443, udpPort: undefined, httpFallback: '0', proxy: undefined }],
    ['WSS offered, never: SSH and UDP, WSS noted as declined', F5, { wss: 'never' }, { session: 'ssh', tcpPort: 33001, udpPort: 33001, wssDeclined: 443 }],
    ['wss_enabled false: SSH', NO_WSS, {}, { session: 'ssh', tcpPort: 33001, wssDeclined: undefined }],
    ['wss_enabled without a port: SSH', { ...F5, wss_port: undefined }, {}, { session: 'ssh' }],
    ['fallback auto follows the spec (false → -y 0)', NO_WSS, {}, { httpFallback: '0' }],
    ['fallback auto, spec silent: no -y', { ...NO_WSS, http_fallback: undefined }, {}, { httpFallback: undefined }],
    ['fallback auto, spec force', { ...NO_WSS, http_fallback: 'force' }, {}, { httpFallback: 'F' }],
    ['fallback always overrides the spec', NO_WSS, { httpFallback: 'always' }, { httpFallback: '1', httpFallbackPort: 8443 }],
    ['fallback force', NO_WSS, { httpFallback: 'force' }, { httpFallback: 'F' }],
    ['fallback never', { ...NO_WSS, http_fallback: true }, { httpFallback: 'never' }, { httpFallback: '0' }],
    ['HTTP fallback goes through HTTPS_PROXY, without its login', NO_WSS, { httpFallback: 'always', outbound: PROXY }, { proxy: 'http://proxy.corp:3128' }],
    ['WSS goes through HTTPS_PROXY too', F5, { outbound: PROXY }, { session: 'wss', proxy: 'http://proxy.corp:3128' }],
    ['ASCP_PROXY wins over HTTPS_PROXY', F5, { proxy: 'http://ascp-proxy:8080', outbound: PROXY }, { proxy: 'http://ascp-proxy:8080' }],
    ['NO_PROXY naming the transfer host: direct', { ...F5, remote_host: 'ts.internal.corp' }, { outbound: PROXY }, { proxy: undefined }],
    ['SSH + UDP only: no proxy, it could not carry them', NO_WSS, { outbound: PROXY }, { session: 'ssh', proxy: undefined }],
  ])('%s', (_what, spec, over, expected) => {
    expect(planTransport(spec, settings(over))).toMatchObject(expected);
  });

  it('ASCP_WSS=always refuses a spec without WSS, before ascp runs', () => {
    expect(() => planTransport(NO_WSS, settings({ wss: 'always' }))).toThrow(IngestError);
    try {
      planTransport(NO_WSS, settings({ wss: 'always' }));
    } catch (e) {
      expect(e).toMatchObject({ code: 'NOT_SUPPORTED', retry: 'never' });
      expect((e as Error).message).toMatch(/ASCP_WSS=always, but the transfer spec for fx\.example\.com offers no WebSocket/);
    }
    expect(planTransport(F5, settings({ wss: 'always' })).session).toBe('wss');
  });
});

describe('buildAscpCommand with a route', () => {
  const argv = (spec: TransferSpec, over: Partial<TransportSettings> = {}, extra: { wssCaFile?: string } = {}) =>
    buildAscpCommand(spec, { destination: DEST, sshKeyPath: KEY, managementPort: 40001, quiet: true, transport: settings(over), ...extra });

  it('a spec with wss_enabled: --ws-connect and -P on the WSS port, as ascli runs it', () => {
    const { args, env } = argv(F5);
    expect(args.slice(0, 4)).toEqual(['-M', '40001', '-q', '--ws-connect']);
    expect(args[args.indexOf('-P') + 1]).toBe('443');
    // no UDP port, no SSH fingerprint, no SSH key over WSS
    for (const absent of ['-O', '--check-sshfp', '-i', '-x']) expect(args, absent).not.toContain(absent);
    expect(args.at(-1)).toBe(DEST);
    // the token stays in the environment
    expect(env.ASPERA_SCP_TOKEN).toBe(F5.token);
    expect(args.join(' ')).not.toContain(F5.token!);
  });

  it('over WSS, -i names the CA certificates for its TLS', () => {
    const { args } = argv(F5, {}, { wssCaFile: '/etc/faspex/ca.pem' });
    expect(args.slice(0, 6)).toEqual(['-M', '40001', '-q', '--ws-connect', '-i', '/etc/faspex/ca.pem']);
  });

  it('refused by ASCP_WSS=never: SSH with its key, -O and the fingerprint, no --ws-connect', () => {
    const { args } = argv(F5, { wss: 'never' });
    expect(args).not.toContain('--ws-connect');
    expect(args.slice(0, 5)).toEqual(['-M', '40001', '-q', '-i', KEY]);
    expect(args[args.indexOf('-P') + 1]).toBe('33001');
    expect(args[args.indexOf('-O') + 1]).toBe('33001');
    expect(args[args.indexOf('--check-sshfp') + 1]).toBe('SHA256:abc');
  });

  it('HTTP fallback through the proxy: -y 1, -t, and -x without the login', () => {
    const { args } = argv(NO_WSS, { httpFallback: 'always', outbound: PROXY });
    expect(args.slice(0, 7)).toEqual(['-M', '40001', '-q', '-i', KEY, '-x', 'http://proxy.corp:3128']);
    expect(args[args.indexOf('-y') + 1]).toBe('1');
    expect(args[args.indexOf('-t') + 1]).toBe('8443');
    expect(args.join(' ')).not.toMatch(/ingest|pw@/);
  });

  it('fasp-url / resolve --format ascp and shell show the same command', () => {
    const ascp = JSON.parse(formatTransfer(F5, 'ascp', { destination: DEST, showSecrets: false, sshKeyPath: KEY, transport: settings() })) as { args: string[]; env: Record<string, string> };
    expect(ascp.args).toContain('--ws-connect');
    expect(ascp.args[ascp.args.indexOf('-P') + 1]).toBe('443');
    expect(ascp.env.ASPERA_SCP_TOKEN).toBe('***');
    const shell = formatTransfer(F5, 'shell', { destination: DEST, showSecrets: false, transport: settings({ wss: 'never' }) });
    expect(shell).not.toContain('--ws-connect');
    const spec = JSON.parse(formatTransfer(F5, 'transfer-spec', { destination: DEST, showSecrets: false })) as Record<string, unknown>;
    expect(spec).toMatchObject({ wss_enabled: true, wss_port: 443 });
  });
});

describe('blocked paths: a classified error that says what was tried and what is left', () => {
  const error = (code: number, description: string) => ({ type: 'ERROR' as const, fields: { Code: String(code), Description: description } });
  const end = (plan: ReturnType<typeof planTransport>, code: number, description: string): RunEnd => ({
    lastEvent: error(code, description), eventCount: 2, connected: true, exitCode: 1, signal: undefined, stopReason: undefined, diagnostics: '',
    network: { host: 'fx.example.com', sshPort: 33001, faspPort: 33001, plan }, stallSeconds: 300,
  });

  it.each<[string, TransferSpec, Partial<TransportSettings>, number, string, RegExp]>([
    ['SSH blocked', NO_WSS, {}, 12, 'Failed to open TCP connection for SSH', /tried SSH to fx\.example\.com:33001 \(TCP\), data on UDP 33001.*ask for TCP 33001 and UDP 33001.*ASCP_HTTP_FALLBACK=always/],
    ['UDP blocked, no fallback', NO_WSS, {}, 44, 'UDP session initiation fatal error', /data on UDP 33001.*allow HTTP fallback/],
    ['UDP and HTTP blocked', NO_WSS, { httpFallback: 'always' }, 47, 'HTTP fallback connection failed', /then HTTP fallback on TCP 8443.*give HTTP fallback a proxy/],
    ['SSH blocked, WSS refused by setting', F5, { wss: 'never' }, 12, 'Failed to open TCP connection for SSH', /the server offers WSS on port 443: set ASCP_WSS=auto/],
    ['WSS blocked', F5, {}, 12, 'Failed to open WebSocket connection', /tried WebSocket \(WSS\) to fx\.example\.com:443 \(TCP\).*ASCP_PROXY.*ASCP_WSS=never/],
    ['WSS blocked through a proxy', F5, { outbound: PROXY }, 12, 'Failed to open WebSocket connection', /WSS\) to fx\.example\.com:443 \(TCP\) through the proxy http:\/\/proxy\.corp:3128/],
  ])('%s → TRANSFER_BLOCKED', (_what, spec, over, code, description, message) => {
    const o = decideOutcome(end(planTransport(spec, settings(over)), code, description));
    expect(o).toMatchObject({ ok: false, code: 'TRANSFER_BLOCKED', retry: 'later', details: { ascpCode: code } });
    if (!o.ok) {
      expect(o.message).toMatch(message);
      expect(o.message).toMatch(/a firewall most likely blocks it/);
      expect(o.message).toContain(description);
    }
  });

  it('other failures keep their own classification', () => {
    const plan = planTransport(NO_WSS, settings());
    expect(decideOutcome(end(plan, 16, 'Connection lost'))).toMatchObject({ code: 'TRANSFER_FAILED', retry: 'later' });
    expect(decideOutcome(end(plan, 14, 'Target address not available'))).toMatchObject({ code: 'TRANSFER_FAILED', retry: 'never' });
    expect(decideOutcome(end(plan, 19, 'Authentication failure'))).toMatchObject({ code: 'TRANSFER_FAILED', retry: 'never' });
  });

  it('describes each route in words', () => {
    expect(describePaths(planTransport(F5, settings()), 'h')).toBe('WebSocket (WSS) to h:443 (TCP)');
    expect(describePaths(planTransport(NO_WSS, settings({ httpFallback: 'force' })), 'h')).toBe('SSH to h:33001 (TCP), data over HTTP on TCP 8443');
    expect(unblockAdvice(planTransport(NO_WSS, settings({ httpFallback: 'always', outbound: PROXY })), 'h')).toBe('ask for TCP 33001 and UDP 33001 to h to be opened');
  });
});
