import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildAscpCommand } from '../../src/fasp/ascp-command.js';
import { parseFaspUrl } from '../../src/fasp/fasp-url.js';
import { formatTransfer, isTransferFormat, shellQuote, TRANSFER_FORMATS, type TransferFormat } from '../../src/fasp/formats.js';
import type { TransferSpec } from '../../src/fasp/transfer-spec.js';
import { SEED_COOKIE, SEED_SOURCE, SEED_URL } from '../support/fasp-fixtures.js';

const DEST = '/srv/downloads/acme_4822';
const TOKEN = 'Basic dG9rZW4tZm9y-formats';
const WITH_TOKEN: TransferSpec = { ...parseFaspUrl(SEED_URL), token: TOKEN, tags: { aspera: { n: 1 } }, sshfp: 'SHA256:fp' };
const HOSTILE = `/pkg/it's "quoted" $HOME \`id\` \\back !bang\nnew line ; rm -rf x`;

/** Runs `script` in POSIX sh with a fake `ascp` that prints its env secrets and argv, NUL-separated. */
function runShell(script: string): string[] {
  const fake = `ascp() { printf '%s\\0' "TOKEN=$ASPERA_SCP_TOKEN" "COOKIE=$ASPERA_SCP_COOKIE" "$@"; }\n`;
  const out = execFileSync('sh', ['-c', fake + script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return out.split('\0').slice(0, -1);
}

describe('TRANSFER_FORMATS', () => {
  it.each([...TRANSFER_FORMATS])('%s is a format', (f) => expect(isTransferFormat(f)).toBe(true));
  it.each(['json', '', 'Shell', 'transfer_spec'])('%s is not', (f) => expect(isTransferFormat(f)).toBe(false));
});

describe('formatTransfer: secrets', () => {
  it.each(TRANSFER_FORMATS.map((f) => [f] as [TransferFormat]))('%s masks token and cookie by default', (format) => {
    const text = formatTransfer(WITH_TOKEN, format, { destination: DEST, showSecrets: false });
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(SEED_COOKIE);
    expect(text).not.toContain('dG9rZW4tZm9y');
    expect(text).toContain('***');
  });

  it.each(TRANSFER_FORMATS.map((f) => [f] as [TransferFormat]))('%s shows them with showSecrets', (format) => {
    const text = formatTransfer(WITH_TOKEN, format, { destination: DEST, showSecrets: true });
    expect(text).toContain(SEED_COOKIE);
    expect(text).toContain(format === 'shell' ? shellQuote(TOKEN) : TOKEN);
  });
});

describe('formatTransfer: transfer-spec', () => {
  it('is one JSON object with the standard names, the download defaults and the destination', () => {
    const out = JSON.parse(formatTransfer(parseFaspUrl(SEED_URL), 'transfer-spec', { destination: DEST, showSecrets: true })) as Record<string, unknown>;
    expect(out).toEqual({
      remote_host: 'acme-faspex',
      remote_user: 'faspex',
      ssh_port: 33001,
      fasp_port: 33001,
      direction: 'receive',
      paths: [{ source: SEED_SOURCE }],
      cookie: SEED_COOKIE,
      target_rate_kbps: 45000,
      min_rate_kbps: 0,
      rate_policy: 'fair',
      cipher: 'aes-128',
      http_fallback: true,
      http_fallback_port: 443,
      create_dir: true,
      lock_rate_policy: true,
      lock_min_rate: true,
      target_rate_cap_kbps: 100000,
      destination_root: DEST,
      resume_policy: 'sparse_csum',
    });
    expect(Object.keys(out).slice(0, 5)).toEqual(['remote_host', 'remote_user', 'ssh_port', 'fasp_port', 'direction']);
  });

  it.each<[string, string | undefined, TransferSpec, boolean]>([
    ['key and token', '/k/id_rsa', WITH_TOKEN, true],
    ['key, no token', '/k/id_rsa', parseFaspUrl(SEED_URL), false],
    ['token, no key', undefined, WITH_TOKEN, false],
  ])('ssh_private_key_path with %s: %s', (_, sshKeyPath, spec, present) => {
    const out = JSON.parse(formatTransfer(spec, 'transfer-spec', { destination: DEST, showSecrets: false, sshKeyPath })) as Record<string, unknown>;
    expect('ssh_private_key_path' in out).toBe(present);
  });
});

describe('formatTransfer: ascp', () => {
  it('is {args, env} exactly as buildAscpCommand gives them', () => {
    const out = JSON.parse(formatTransfer(WITH_TOKEN, 'ascp', { destination: DEST, showSecrets: true, sshKeyPath: '/k' })) as unknown;
    expect(out).toEqual(buildAscpCommand(WITH_TOKEN, { destination: DEST, sshKeyPath: '/k' }));
  });

  it('masks the env values only', () => {
    const out = JSON.parse(formatTransfer(WITH_TOKEN, 'ascp', { destination: DEST, showSecrets: false })) as { args: string[]; env: Record<string, string> };
    expect(out.env).toEqual({ ASPERA_SCP_TOKEN: '***', ASPERA_SCP_COOKIE: '***' });
    expect(out.args).toEqual(buildAscpCommand(WITH_TOKEN, { destination: DEST }).args);
  });
});

describe('formatTransfer: shell', () => {
  it('is export ... ; export ... ; ascp ... with every argument single-quoted', () => {
    const text = formatTransfer(parseFaspUrl(SEED_URL), 'shell', { destination: DEST, showSecrets: false });
    expect(text).toBe(
      "export ASPERA_SCP_COOKIE='***' ; ascp '-c' 'aes128' '-d' '--mode' 'recv' '-O' '33001' '-y' '1' '-t' '443' '--policy' 'fair' " +
        "'--host' 'acme-faspex' '--user' 'faspex' '-k' '2' '-P' '33001' '-l' '45000' '-m' '0' " +
        `'${SEED_SOURCE}' '${DEST}'`,
    );
  });

  it.each<[string, string, string]>([
    ['seed', SEED_SOURCE, DEST],
    ['spaces, quotes, $, backticks, backslash, newline', HOSTILE, "/tmp/dl dir/it's $USER `x`"],
    ['only a quote', "/'", "/'"],
    ['unicode', '/résumé 日本', '/tmp/ü'],
  ])('round-trips through sh: %s', (_, source, destination) => {
    const spec: TransferSpec = { ...WITH_TOKEN, token: `t'ok $X \`y\``, paths: [{ source }] };
    const script = formatTransfer(spec, 'shell', { destination, showSecrets: true, sshKeyPath: '/k/my key' });
    execFileSync('sh', ['-n', '-c', script]);
    const { args } = buildAscpCommand(spec, { destination, sshKeyPath: '/k/my key' });
    expect(runShell(script)).toEqual([`TOKEN=t'ok $X \`y\``, `COOKIE=${SEED_COOKIE}`, ...args]);
  });

  it.each([["it's"], ['$HOME'], ['`id`'], ['a\\b'], ['x\ny'], ['']])('shellQuote(%j) survives sh', (word) => {
    expect(runShell(`ascp ${shellQuote(word)}`).slice(2)).toEqual([word]);
  });
});

describe('formatTransfer: xferparams', () => {
  it('uses FASPManager XferParams names and enum constants', () => {
    const out = JSON.parse(formatTransfer(WITH_TOKEN, 'xferparams', { destination: DEST, showSecrets: true, sshKeyPath: '/k' })) as unknown;
    expect(out).toEqual({
      remoteHost: 'acme-faspex',
      remoteUser: 'faspex',
      sshKeyPath: '/k',
      sources: [SEED_SOURCE],
      destination: DEST,
      tcpPort: 33001,
      udpPort: 33001,
      targetRateKbps: 45000,
      minimumRateKbps: 0,
      policy: 'FAIR',
      cipher: 'AES_128',
      createPath: true,
      resumeCheck: 'SPARSE_CHECKSUM',
      httpFallback: true,
      httpFallbackPort: 443,
      sshFingerprint: 'SHA256:fp',
      tags64: Buffer.from('{"aspera":{"n":1}}').toString('base64'),
      token: TOKEN,
      cookie: SEED_COOKIE,
    });
  });

  it.each<[Partial<TransferSpec>, Record<string, unknown>]>([
    [{ cipher: 'none' }, { cipher: 'NONE' }],
    [{ cipher: 'aes-256-gcm' }, { cipher: 'AES_256_GCM' }],
    [{ rate_policy: 'low' }, { policy: 'LOW' }],
    [{ rate_policy: 'fixed' }, { policy: 'FIXED' }],
    [{ resume_policy: 'none' }, { resumeCheck: 'NONE' }],
    [{ resume_policy: 'attrs' }, { resumeCheck: 'FILE_ATTRIBUTES' }],
    [{ resume_policy: 'full_csum' }, { resumeCheck: 'FULL_CHECKSUM' }],
  ])('%j → %j', (fields, expected) => {
    const spec: TransferSpec = { direction: 'receive', remote_host: 'h', paths: [{ source: '/p' }], ...fields };
    expect(JSON.parse(formatTransfer(spec, 'xferparams', { destination: DEST, showSecrets: false }))).toMatchObject(expected);
  });
});

describe('formatTransfer: refusals apply to every format', () => {
  it.each(TRANSFER_FORMATS.map((f) => [f] as [TransferFormat]))('%s refuses an option-like source', (format) => {
    const spec: TransferSpec = { direction: 'receive', remote_host: 'h', paths: [{ source: '-oEvil' }] };
    expect(() => formatTransfer(spec, format, { destination: DEST, showSecrets: false })).toThrow(/starts with "-"/);
  });
});
