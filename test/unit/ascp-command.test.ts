import { describe, expect, it } from 'vitest';
import { IngestError } from '../../src/errors.js';
import { buildAscpCommand, downloadSpec } from '../../src/fasp/ascp-command.js';
import { parseFaspUrl } from '../../src/fasp/fasp-url.js';
import type { TransferSpec } from '../../src/fasp/transfer-spec.js';
import { SEED_COOKIE, SEED_SOURCE, SEED_URL } from '../support/fasp-fixtures.js';

const DEST = '/srv/downloads/acme_4822';
const MIN: TransferSpec = { direction: 'receive', remote_host: 'h', paths: [{ source: '/p' }] };

/** The value after `flag`, or undefined when the flag is absent. */
function valueOf(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

describe('buildAscpCommand: the seed example', () => {
  const { args, env } = buildAscpCommand(parseFaspUrl(SEED_URL), { destination: DEST });

  it.each([
    ['--mode', 'recv'],
    ['--host', 'acme-faspex'],
    ['--user', 'faspex'],
    ['-P', '33001'],
    ['-O', '33001'],
    ['-l', '45000'],
    ['-m', '0'],
    ['--policy', 'fair'],
    ['-c', 'aes128'],
    ['-y', '1'],
    ['-t', '443'],
    ['-k', '2'],
  ])('%s %s', (flag, value) => {
    expect(valueOf(args, flag)).toBe(value);
  });

  it('is exactly the documented order, sources then the destination last', () => {
    expect(args).toEqual([
      '-c', 'aes128', '-d', '--mode', 'recv', '-O', '33001', '-y', '1', '-t', '443', '--policy', 'fair',
      '--host', 'acme-faspex', '--user', 'faspex', '-k', '2', '-P', '33001', '-l', '45000', '-m', '0',
      SEED_SOURCE, DEST,
    ]);
  });

  it('puts the cookie in the environment and nowhere in argv', () => {
    expect(env).toEqual({ ASPERA_SCP_COOKIE: SEED_COOKIE });
    expect(args.join(' ')).not.toContain(SEED_COOKIE);
    expect(args.join(' ')).not.toContain('aspera.faspex20');
  });

  it('keeps bwcap and the locks in the spec but out of argv', () => {
    const spec = parseFaspUrl(SEED_URL);
    expect(spec).toMatchObject({ target_rate_cap_kbps: 100000, lock_rate_policy: true, lock_min_rate: true });
    expect(args).not.toContain('100000');
    expect(args.some((a) => /cap|lock/i.test(a))).toBe(false);
  });
});

describe('buildAscpCommand: each field', () => {
  it.each<[string, Partial<TransferSpec>, Partial<Parameters<typeof buildAscpCommand>[1]>, string[]]>([
    ['minimal spec: -d, recv, -k 2', {}, {}, ['-d', '--mode', 'recv', '--host', 'h', '-k', '2', '/p', DEST]],
    ['cipher aes-128 → aes128', { cipher: 'aes-128' }, {}, ['-c', 'aes128']],
    ['cipher aes-256-gcm → aes256gcm', { cipher: 'aes-256-gcm' }, {}, ['-c', 'aes256gcm']],
    ['cipher aes-192-cfb → aes192cfb', { cipher: 'aes-192-cfb' }, {}, ['-c', 'aes192cfb']],
    ['cipher none → -c none', { cipher: 'none' }, {}, ['-c', 'none']],
    ['create_dir false from the server is overridden', { create_dir: false }, {}, ['-d']],
    ['fasp_port', { fasp_port: 33002 }, {}, ['-O', '33002']],
    ['ssh_port', { ssh_port: 22 }, {}, ['-P', '22']],
    ['http_fallback true', { http_fallback: true }, {}, ['-y', '1']],
    ['http_fallback false', { http_fallback: false }, {}, ['-y', '0']],
    ['http_fallback force', { http_fallback: 'force' }, {}, ['-y', 'F']],
    ['http_fallback_port', { http_fallback_port: 8443 }, {}, ['-t', '8443']],
    ['rate_policy', { rate_policy: 'high' }, {}, ['--policy', 'high']],
    ['remote_user', { remote_user: 'faspex' }, {}, ['--user', 'faspex']],
    ['resume none', { resume_policy: 'none' }, {}, ['-k', '0']],
    ['resume attrs', { resume_policy: 'attrs' }, {}, ['-k', '1']],
    ['resume sparse_csum', { resume_policy: 'sparse_csum' }, {}, ['-k', '2']],
    ['resume full_csum', { resume_policy: 'full_csum' }, {}, ['-k', '3']],
    ['source_root', { source_root: '/pkgs' }, {}, ['--source-prefix64', Buffer.from('/pkgs').toString('base64')]],
    ['tags', { tags: { aspera: { x: 'é' } } }, {}, ['--tags64', Buffer.from('{"aspera":{"x":"é"}}').toString('base64')]],
    ['tags string', { tags: 'foo' }, {}, ['--tags64', 'ImZvbyI=']],
    ['target rate', { target_rate_kbps: 45000 }, {}, ['-l', '45000']],
    ['min rate 0', { min_rate_kbps: 0 }, {}, ['-m', '0']],
    ['sshfp', { sshfp: 'SHA256:xyz' }, {}, ['--check-sshfp', 'SHA256:xyz']],
    ['-i with key and token', { token: 'tok-aaaa' }, { sshKeyPath: '/k/aspera_bypass_rsa.pem' }, ['-i', '/k/aspera_bypass_rsa.pem']],
    ['-M management port', {}, { managementPort: 40001 }, ['-M', '40001']],
    ['-q quiet', {}, { quiet: true }, ['-q']],
    ['two sources, destination last', { paths: [{ source: '/a' }, { source: '/b c' }] }, {}, ['/a', '/b c', DEST]],
  ])('%s', (_, fields, opts, expected) => {
    const { args } = buildAscpCommand({ ...MIN, ...fields }, { destination: DEST, ...opts });
    expect(containsRun(args, expected)).toBe(true);
    expect(args.at(-1)).toBe(DEST);
  });

  it.each<[string, Partial<TransferSpec>, Partial<Parameters<typeof buildAscpCommand>[1]>, string]>([
    ['no -i without a key', { token: 'tok-bbbb' }, {}, '-i'],
    ['no -i without a token', {}, { sshKeyPath: '/k/key' }, '-i'],
    ['no -q unless asked', {}, { quiet: false }, '-q'],
    ['no -M unless asked', {}, {}, '-M'],
    ['no -c without cipher', {}, {}, '-c'],
    ['no -y without http_fallback', {}, {}, '-y'],
    ['no --tags64 without tags', {}, {}, '--tags64'],
    ['no -P without ssh_port', {}, {}, '-P'],
  ])('%s', (_, fields, opts, absent) => {
    expect(buildAscpCommand({ ...MIN, ...fields }, { destination: DEST, ...opts }).args).not.toContain(absent);
  });

  it('puts -M, -q, -i in front, as ascli does', () => {
    const { args } = buildAscpCommand({ ...MIN, token: 'tok-cccc', cipher: 'aes-128' }, { destination: DEST, managementPort: 5, quiet: true, sshKeyPath: '/k' });
    expect(args.slice(0, 7)).toEqual(['-M', '5', '-q', '-i', '/k', '-c', 'aes128']);
  });

  it('puts token and cookie in the environment only', () => {
    const { args, env } = buildAscpCommand({ ...MIN, token: 'Basic tok-dddd', cookie: 'ck-eeee' }, { destination: DEST });
    expect(env).toEqual({ ASPERA_SCP_TOKEN: 'Basic tok-dddd', ASPERA_SCP_COOKIE: 'ck-eeee' });
    expect(args.join('\n')).not.toMatch(/tok-dddd|ck-eeee/);
    expect(args).not.toContain('-W');
  });

  it('gives an empty environment when there is no secret', () => {
    expect(buildAscpCommand(MIN, { destination: DEST }).env).toEqual({});
  });

  it('does not change the spec it was given', () => {
    const spec: TransferSpec = { ...MIN, create_dir: false };
    buildAscpCommand(spec, { destination: DEST });
    expect(spec).toEqual({ ...MIN, create_dir: false });
  });
});

describe('downloadSpec', () => {
  it.each<[string, Partial<TransferSpec>, Partial<TransferSpec>]>([
    ['adds ascli download defaults', {}, { create_dir: true, resume_policy: 'sparse_csum', destination_root: DEST }],
    ['overrides the server create_dir', { create_dir: false }, { create_dir: true }],
    ['keeps an explicit resume policy', { resume_policy: 'none' }, { resume_policy: 'none' }],
  ])('%s', (_, fields, expected) => {
    expect(downloadSpec({ ...MIN, ...fields }, DEST)).toMatchObject(expected);
  });
});

describe('buildAscpCommand: refused', () => {
  it.each<[string, Partial<TransferSpec>, string, string, RegExp]>([
    ['source starting with -', { paths: [{ source: '--remove-after-transfer' }] }, DEST, 'UNSAFE_PATH', /source path "--remove-after-transfer" starts with "-"/],
    ['second source starting with -', { paths: [{ source: '/ok' }, { source: '-d' }] }, DEST, 'UNSAFE_PATH', /starts with "-"/],
    ['empty source', { paths: [{ source: '' }] }, DEST, 'UNSAFE_PATH', /source path is empty/],
    ['NUL in source', { paths: [{ source: '/a\0b' }] }, DEST, 'UNSAFE_PATH', /NUL/],
    ['per-path destination', { paths: [{ source: '/a', destination: 'b' }] }, DEST, 'UNSAFE_PATH', /own destination/],
    ['no paths', { paths: [] }, DEST, 'LINK_INVALID', /no source path/],
    ['destination starting with -', {}, '--overwrite=always', 'UNSAFE_PATH', /destination "--overwrite=always" starts with "-"/],
    ['empty destination', {}, '', 'UNSAFE_PATH', /destination folder is empty/],
    ['NUL in destination', {}, '/d\0', 'UNSAFE_PATH', /NUL/],
    ['an upload', { direction: 'send' }, DEST, 'LINK_NOT_DOWNLOAD', /upload/],
    ['fasp_port out of range', { fasp_port: 70000 }, DEST, 'LINK_INVALID', /fasp_port must be a port number/],
    ['negative rate', { target_rate_kbps: -1 }, DEST, 'LINK_INVALID', /target_rate_kbps must be a whole number/],
    ['fractional min rate', { min_rate_kbps: 1.5 }, DEST, 'LINK_INVALID', /min_rate_kbps/],
  ])('%s', (_, fields, destination, code, pattern) => {
    let caught: unknown;
    try {
      buildAscpCommand({ ...MIN, ...fields }, { destination });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(IngestError);
    expect((caught as IngestError).code).toBe(code);
    expect((caught as IngestError).permanent).toBe(true);
    expect((caught as IngestError).message).toMatch(pattern);
  });

  it('refuses a bad management port', () => {
    expect(() => buildAscpCommand(MIN, { destination: DEST, managementPort: 0 })).toThrow(/management port/);
  });
});

function containsRun(haystack: string[], run: string[]): boolean {
  for (let i = 0; i + run.length <= haystack.length; i++) {
    if (run.every((v, j) => haystack[i + j] === v)) return true;
  }
  return false;
}
