/**
 * The one-shot path (src/cli/one-shot.ts, bundled into dist/one-shot/) against the full CLI
 * (main.ts, commander): the same output, exit status and errors for every argv it takes on, the
 * full CLI for everything else; its help texts are commander's own; and through the real bin,
 * a one-shot command loads only the bundle (never commander, never a module of dist/src, so no
 * module, the secret registry among them, exists twice), while a command it hands on loads
 * nothing of the bundle but its entry.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { captureHelp, helpArgvs } from '../../src/cli/help-snapshot.js';
import { main } from '../../src/cli/main.js';
import { helpKey, oneShot, type HelpSnapshot } from '../../src/cli/one-shot.js';
import { BIN } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(ROOT, 'test', 'fixtures', 'mail');
const PRELOAD = join(ROOT, 'test', 'support', 'module-trace', 'preload.mjs');
const URL_ = 'faspe://faspex@acme-faspex:33001/aspera-package/PKG%20-%20test?token=T0k3n&cookie=c00k1e&port=33001&policy=fair&targetrate=100000';
const MAIL = join(FIXTURES, 'f4-external.eml');
const ENV = { FASPEX_ALLOWED_HOSTS: 'acme-faspex, faspex.example.com' };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const dir = tempDir('one-shot');
afterAll(() => dir.remove());

// commander wraps help to the width of a terminal on the test process's own stdout: not here
const ttys = [process.stdout, process.stderr].map((s) => [s, s.isTTY] as const);
beforeAll(() => ttys.forEach(([s]) => (s.isTTY = false)));
afterAll(() => ttys.forEach(([s, was]) => (s.isTTY = was)));

function io(stdin = ''): { io: CliIo; result: () => Omit<Run, 'code'> } {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (d) => (stdout += d));
  const err = new PassThrough().on('data', (d) => (stderr += d));
  return { io: { env: { ...ENV }, cwd: dir.path, stdout: out, stderr: err, stdin: Readable.from([Buffer.from(stdin)]) }, result: () => ({ stdout, stderr }) };
}

async function full(argv: string[], stdin?: string): Promise<Run> {
  const { io: cli, result } = io(stdin);
  const code = await main(argv, cli);
  return { code, ...result() };
}

/** undefined when the one-shot path hands the argv on */
async function fast(argv: string[], snapshot: HelpSnapshot, stdin?: string): Promise<Run | undefined> {
  const { io: cli, result } = io(stdin);
  const run = oneShot(argv, cli, () => snapshot);
  if (!run) return undefined;
  const code = await run();
  return { code, ...result() };
}

let snapshot: HelpSnapshot;
beforeAll(async () => {
  snapshot = await captureHelp();
});

describe('help texts', () => {
  it('the build recorded what commander prints now, for every command', async () => {
    const built = JSON.parse(readFileSync(join(ROOT, 'dist', 'one-shot', 'help.json'), 'utf8')) as HelpSnapshot;
    expect(built).toEqual(snapshot);
    // the program's help and both flags of every command
    expect(Object.keys(snapshot)).toHaveLength(2 + 2 * 13);
    expect(snapshot[helpKey(['resolve', '--help'])]!.stdout).toMatch(/^Usage: faspex-ingest resolve \[options\] <link>\n/);
  });

  it.each(helpArgvs().map((a) => [a.join(' '), a] as const))('%s: the one-shot path prints exactly what commander prints', async (_, argv) => {
    const expected = await full(argv);
    expect(await fast(argv, snapshot)).toEqual(expected);
    expect(expected.code).toBe(0);
  });

  it('a terminal wider or narrower than 80 columns gets commander itself (it wraps to the width)', () => {
    const { io: cli } = io();
    Object.assign(cli.stdout, { isTTY: true, columns: 120 });
    expect(oneShot(['resolve', '--help'], cli, () => snapshot)).toBeUndefined();
    Object.assign(cli.stdout, { columns: 80 });
    expect(oneShot(['resolve', '--help'], cli, () => snapshot)).toBeDefined();
  });

  it('without a recorded snapshot (running from src/), commander answers', () => {
    expect(oneShot(['resolve', '--help'], io().io, () => undefined)).toBeUndefined();
  });
});

/** [argv, taken on by the one-shot path] */
const CASES: Array<[string[], boolean]> = [
  [['fasp-url', URL_], true],
  [['fasp-url', URL_, '--format', 'ascp'], true],
  [['fasp-url', '--format', 'shell', URL_], true],
  [['fasp-url', '-f', 'xferparams', URL_, '--show-secrets'], true],
  [['fasp-url', URL_, '--format=ascp', '--to', 'sub/dir'], true],
  [['fasp-url', URL_, '--to=/srv/x', '--format', 'transfer-spec'], true],
  [['fasp-url', URL_, '-f', 'ascp', '-f', 'shell'], true],
  [['fasp-url', URL_, '--show-secrets', '--show-secrets'], true],
  // bad input the one-shot path fails on exactly as commander's action does
  [['fasp-url', URL_, '--format', 'nope'], true],
  [['fasp-url', URL_, '--format='], true],
  [['fasp-url', 'not-a-url'], true],
  [['fasp-url', 'https://acme-faspex/aspera/faspex/external_deliveries/1?passcode=x'], true],
  [['fasp-url', ''], true],
  // what only commander reads (or rejects)
  [['fasp-url'], false],
  [['fasp-url', URL_, 'extra'], false],
  [['fasp-url', URL_, '--bogus'], false],
  [['fasp-url', URL_, '--format'], false],
  [['fasp-url', URL_, '-fascp'], false],
  [['fasp-url', URL_, '--form', 'ascp'], false],
  [['fasp-url', URL_, '--format', '-x'], false],
  [['fasp-url', URL_, '--show-secrets=yes'], false],
  [['fasp-url', '--', URL_], false],
  [['fasp-url', URL_, '--help'], false],
  [['--log-format', 'json', 'fasp-url', URL_], false],
  [['extract', MAIL], true],
  [['extract', '--show-secrets', MAIL], true],
  [['extract', join(FIXTURES, 'mimecast.eml')], true],
  [['extract', join(FIXTURES, 'f4-received.eml')], true],
  [['extract', '/nonexistent/mail.eml'], true],
  [['extract'], true],
  [['extract', '-'], false],
  [['extract', MAIL, MAIL], false],
  [['extract', '--nope', MAIL], false],
  [['help', 'resolve'], false],
  [['resolve', '--help', 'x'], false],
  [[], false],
];

describe('fasp-url and extract: the one-shot path and the full CLI agree', () => {
  it.each(CASES.map(([argv, taken]) => [JSON.stringify(argv), argv, taken] as const))('%s', async (_, argv, taken) => {
    const stdin = readFileSync(join(FIXTURES, 'f4-received.eml'), 'utf8');
    const expected = await full(argv, stdin);
    const got = await fast(argv, snapshot, stdin);
    if (!taken) return expect(got).toBeUndefined();
    expect(got).toEqual(expected);
  });
});

/** The real bin, with every ESM module it resolves recorded (test/support/module-trace). */
function runTraced(args: string[]): Promise<Run & { modules: string[] }> {
  const trace = join(dir.path, `trace-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: dir.path, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...ENV, NODE_OPTIONS: `--import=${PRELOAD}`, MODULE_TRACE_FILE: trace }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const modules = readFileSync(`${trace}.esm`, 'utf8').trim().split('\n');
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr, modules });
      },
    );
  });
}

const ours = (modules: string[], under: string) => [...new Set(modules.filter((m) => m.includes(`${ROOT}${under}`)).map((m) => m.slice(m.indexOf(under) + under.length)))];

describe('through bin/faspex-ingest', () => {
  it.each([
    [['fasp-url', URL_, '--format', 'ascp'], ['one-shot.js', 'one-shot-fasp-url.js']],
    [['extract', MAIL], ['one-shot.js', 'one-shot-extract.js']],
    [['resolve', '--help'], ['one-shot.js']],
  ])('%j: the output of the full CLI, from the bundle alone: no dist/src module, no commander', async (args, bundle) => {
    const r = await runTraced(args);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual(await full(args));
    expect(ours(r.modules, 'dist/src/')).toEqual([]);
    expect(r.modules.filter((m) => m.includes('/node_modules/commander/'))).toEqual([]);
    expect(ours(r.modules, 'dist/one-shot/')).toEqual(bundle);
  }, 90_000);

  it('a failure is masked and classed by the bundle that threw it (one secret registry, one UsageError)', async () => {
    // the token, registered while the URL is parsed, is masked where the port error repeats it
    const badPort = await runTraced(['fasp-url', 'faspe://faspex@acme-faspex:33001/x?token=T0k3nT0k3n&port=T0k3nT0k3n']);
    expect(badPort).toMatchObject({ code: 1, stdout: '', stderr: 'faspex-ingest: FASP URL: port must be a port number from 1 to 65535, got "***"\n' });
    // a usage error exits 2
    const badFormat = await runTraced(['fasp-url', URL_, '--format', 'nope']);
    expect(badFormat).toMatchObject({ code: 2, stdout: '' });
    expect(badFormat.stderr).toBe((await full(['fasp-url', URL_, '--format', 'nope'])).stderr);
    for (const r of [badPort, badFormat]) expect(ours(r.modules, 'dist/one-shot/')).toEqual(['one-shot.js', 'one-shot-fasp-url.js']);
  }, 90_000);

  it('extract of a mail the direct reader leaves to mailparser: mailparser loads from node_modules', async () => {
    const link = 'https://faspex.example.com/aspera/faspex/external_deliveries/7?passcode=0123456789abcdef0123456789abcdef01234567&expiration=MjAyOS0wNi0xNlQwODozMjozN1o=';
    const mail = join(dir.path, 'no-boundary.eml');
    // nested deeper than the direct reader goes (read-mime.ts MAX_NESTING)
    let body = `Content-Type: text/plain\r\n\r\n${link}\r\n`;
    for (let depth = 0; depth < 18; depth++) body = `Content-Type: multipart/mixed; boundary=b${depth}\r\n\r\n--b${depth}\r\n${body}--b${depth}--\r\n`;
    writeFileSync(mail, `From: a@b.example\r\nSubject: x\r\n${body}`);
    const r = await runTraced(['extract', '--show-secrets', mail]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual(await full(['extract', '--show-secrets', mail]));
    expect(r.stdout).toContain('external_deliveries/7');
    expect(r.modules.some((m) => m.includes('/node_modules/mailparser/'))).toBe(true);
    expect(ours(r.modules, 'dist/src/')).toEqual([]);
  }, 90_000);

  it('a command it hands on runs in dist/src, with nothing of the bundle but its entry', async () => {
    const r = await runTraced(['--log-format', 'json', 'fasp-url', URL_, '--format', 'ascp']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe((await full(['fasp-url', URL_, '--format', 'ascp'])).stdout);
    expect(ours(r.modules, 'dist/one-shot/')).toEqual(['one-shot.js']);
    expect(ours(r.modules, 'dist/src/')).toContain('cli/main.js');
  }, 90_000);
});
