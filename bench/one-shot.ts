/**
 * How close to bare Node do the one-shot commands start? `fasp-url … --format ascp`, `extract
 * FILE.eml` and `resolve --help`, each a whole process started as users start it (the bin file,
 * through its sh line), against `node -e 0` measured in the same run, interleaved round-robin
 * so that a change of load hits every variant alike. Per run: wall time (spawn to exit), CPU
 * (user + system, from bash's `time` at 1 ms resolution; GNU time's own figures come in 10 ms
 * steps, a tenth of `node -e 0`) and peak RSS (GNU time, Debian package `time`, which bash's
 * `time` counts too: a fraction of a millisecond, alike for every variant). Medians are reported.
 *
 *   npx tsx bench/one-shot.ts                      (BENCH_ONESHOT_RUNS=30 by default)
 *   PATH="$(scripts/node24.sh)/bin:$PATH" npx tsx bench/one-shot.ts
 *   BENCH_ONESHOT_BEFORE=/tmp/old-checkout npx tsx bench/one-shot.ts
 *
 * The bin file runs from this checkout, where it first checks that dist/ is fresh (a stat of
 * every source); BENCH_ONESHOT_INSTALLED=1 measures it as an installation without src/ runs it
 * (a copy of bin/ and dist/ in a temporary folder with the same node_modules).
 * BENCH_ONESHOT_BEFORE names another built checkout (e.g. `git archive` of an older commit, its
 * node_modules linked, `node scripts/build.mjs`) whose commands run in the same rounds, marked
 * "before", installed or not alike: a before/after under one load.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fmt, log, printTable, runBenchmark } from './support/report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_ONESHOT_RUNS ?? 30);
const TIME = '/usr/bin/time';
const FASP_URL = 'faspe://faspex@acme-faspex:33001/aspera-package/PKG%20-%20test?token=T0k3n&cookie=c00k1e&port=33001&policy=fair&targetrate=100000';
const MAIL = join(ROOT, 'test', 'fixtures', 'mail', 'f4-external.eml');

interface Sample {
  wallMs: number;
  cpuMs: number;
  rssMiB: number;
}

/** bash's `time` of GNU time of the command: CPU to the millisecond, peak RSS. */
const TIMED = 'TIMEFORMAT="CPU %3U %3S"; time "$@"';

function measure(argv: string[], cwd: string): Sample {
  const started = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', TIMED, 'bash', TIME, '-f', 'RSS %M', ...argv], { cwd, encoding: 'utf8', env: { ...process.env, FASPEX_ALLOWED_HOSTS: 'acme-faspex' } });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  const cpu = /CPU (\S+) (\S+)/.exec(r.stderr);
  const rss = /RSS (\d+)/.exec(r.stderr);
  if (!cpu || !rss) throw new Error(`no time lines in: ${r.stderr}`);
  return { wallMs, cpuMs: (Number(cpu[1]) + Number(cpu[2])) * 1000, rssMiB: Number(rss[1]) / 1024 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A copy of bin/ and dist/ without src/, so bin skips the source checkout's freshness check. */
function installedCopy(root: string): { bin: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'one-shot-'));
  cpSync(join(root, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { bin: join(dir, 'bin', 'faspex-ingest'), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

runBenchmark('one-shot', async () => {
  if (!existsSync(TIME)) throw new Error(`${TIME} is missing: apt-get install -y time`);
  // a build first, so no variant pays for one
  execFileSync(join(ROOT, 'bin', 'faspex-ingest'), ['--help'], { stdio: 'ignore' });
  const asInstalled = process.env.BENCH_ONESHOT_INSTALLED === '1';
  const beforeRoot = process.env.BENCH_ONESHOT_BEFORE;
  if (beforeRoot) execFileSync(join(beforeRoot, 'bin', 'faspex-ingest'), ['--help'], { stdio: 'ignore' });
  const installed = asInstalled ? installedCopy(ROOT) : undefined;
  const installedBefore = asInstalled && beforeRoot ? installedCopy(beforeRoot) : undefined;
  const bin = installed?.bin ?? join(ROOT, 'bin', 'faspex-ingest');
  const before = beforeRoot ? (installedBefore?.bin ?? join(beforeRoot, 'bin', 'faspex-ingest')) : undefined;
  const work = mkdtempSync(join(tmpdir(), 'one-shot-cwd-'));
  // what any CLI pays before its own code: a file as the entry (not -e), then the argument parser
  const emptyEntry = join(work, 'empty.mjs');
  writeFileSync(emptyEntry, '');
  const commanderEntry = join(work, 'commander.mjs');
  writeFileSync(commanderEntry, `import ${JSON.stringify(pathToFileURL(join(ROOT, 'node_modules', 'commander', 'index.js')).href)};\n`);
  const variants: Record<string, string[]> = {
    'node -e 0': [process.execPath, '-e', '0'],
    'node empty.mjs (floor: a file entry)': [process.execPath, emptyEntry],
    'node + commander only': [process.execPath, commanderEntry],
    'fasp-url --format ascp': [bin, 'fasp-url', FASP_URL, '--format', 'ascp'],
    'extract FILE.eml': [bin, 'extract', MAIL],
    'resolve --help': [bin, 'resolve', '--help'],
    ...(before
      ? {
          'before: fasp-url --format ascp': [before, 'fasp-url', FASP_URL, '--format', 'ascp'],
          'before: extract FILE.eml': [before, 'extract', MAIL],
          'before: resolve --help': [before, 'resolve', '--help'],
        }
      : {}),
  };
  const samples = new Map<string, Sample[]>(Object.keys(variants).map((k) => [k, []]));
  const loadBefore = loadavg()[0]!;
  try {
    // one warm-up round: the page cache, and V8's compile cache where the Node line has one
    for (const argv of Object.values(variants)) measure(argv, work);
    for (let i = 0; i < RUNS; i++) for (const [name, argv] of Object.entries(variants)) samples.get(name)!.push(measure(argv, work));
  } finally {
    installed?.dispose();
    installedBefore?.dispose();
    rmSync(work, { recursive: true, force: true });
  }
  const stat = (name: string) => {
    const s = samples.get(name)!;
    return { wall: median(s.map((x) => x.wallMs)), cpu: median(s.map((x) => x.cpuMs)), rss: median(s.map((x) => x.rssMiB)) };
  };
  const base = stat('node -e 0');
  log(`load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; ${RUNS} runs each, interleaved`);
  const figures = Object.keys(variants)
    .filter((n) => n !== 'node -e 0')
    .flatMap((name) => {
      const s = stat(name);
      const floor = name.startsWith('node ');
      const old = name.startsWith('before: ');
      const target = floor ? 'floor' : old ? 'before' : '≤ 1.5 ×';
      const meets = (ratio: number) => floor || old || ratio <= 1.5;
      return [
        { figure: `${name}: wall`, target, measured: `${fmt(s.wall, 0)} ms`, baseline: `${fmt(base.wall, 0)} ms`, ratio: fmt(s.wall / base.wall), pass: meets(s.wall / base.wall) },
        { figure: `${name}: CPU`, target, measured: `${fmt(s.cpu, 0)} ms`, baseline: `${fmt(base.cpu, 0)} ms`, ratio: fmt(s.cpu / base.cpu), pass: meets(s.cpu / base.cpu) },
        ...(name.startsWith('node ') ? [] : [{ figure: `${name}: peak RSS`, target: '-', measured: `${fmt(s.rss, 1)} MiB`, baseline: `${fmt(base.rss, 1)} MiB`, ratio: fmt(s.rss / base.rss), pass: true }]),
      ];
    });
  printTable(`one-shot commands against node -e 0, ${process.version}${installed ? ', as installed (no src/)' : ', from this checkout'}`, figures, [
    'baseline: `node -e 0` in the same run, interleaved; medians; CPU = user + system (bash time, 1 ms), peak RSS (GNU time)',
    ...(beforeRoot ? [`before: the commands of ${beforeRoot}, in the same rounds`] : []),
  ]);
});
