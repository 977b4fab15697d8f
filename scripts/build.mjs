#!/usr/bin/env node
// The production build, and the check that keeps dist/ from going stale.
//
// Plain JavaScript on purpose: bin/faspex-ingest imports it (in a source checkout only) before
// any TypeScript has been compiled, and it must run without a TypeScript loader.
//
//   node scripts/build.mjs             compile src/ + workers/ to dist/ (npm run build, the Dockerfile)
//   node scripts/build.mjs --if-stale  only when an input changed since the last build (tests, prepack)
//
// There is no `prepare` script: npm counts it as an install script of the packed tarball and
// warns that it did not run it (and the tarball has no sources to build from). In a checkout,
// bin/faspex-ingest builds dist/ at its first start instead.
//
// dist/.build-stamp holds a fingerprint (path, size, mtime) of every input as it was when the
// build started; an input edited during or after a build changes the fingerprint, so the next
// CLI start rebuilds instead of silently running the old code.
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.build-stamp');
const LOCK = join(DIST, '.build.lock');
const ENTRY = join(DIST, 'src', 'cli', 'main.js');
/** The one-shot path bundled (bundleOneShot): what bin/faspex-ingest imports first. */
const ONE_SHOT = join(DIST, 'one-shot');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** What the build reads: compiled trees (the stand-ins `demo` runs are in src/standins), the build's own config. */
const INPUT_DIRS = ['src', 'workers'];
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', join('scripts', 'build.mjs')];
/** The stand-ins' non-TypeScript files (the fake ascp, its .mjs helpers, Dovecot's template). */
const ASSET_DIR = join('src', 'standins');
const LOCK_WAIT_MS = 300_000;

// Every CLI start in a checkout runs the freshness check, so it stays cheap: paths by string
// concatenation (path.join normalises each one), the stat listing compared as a string (no
// node:crypto, no hash loop), and node:child_process only when a build really runs.
const require = createRequire(import.meta.url);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * Every input's path, size and mtime, one line each: cheap (stat only) and changed by any edit.
 * The listing itself is the stamp, compared as one string: hashing it in JavaScript cost a
 * checkout's CLI start more than the stats (docs/benchmarks.md, one-shot commands).
 */
export function fingerprint() {
  const root = ROOT.replace(/\/$/, '');
  const files = INPUT_DIRS.flatMap((d) => walk(`${root}/${d}`, [])).concat(INPUT_FILES.map((f) => `${root}/${f}`).filter((f) => existsSync(f)));
  let listing = `inputs-v3 ${files.length}\n`;
  for (const f of files.sort()) {
    const s = statSync(f);
    listing += `${f.slice(root.length)}\t${s.size}\t${s.mtimeMs}\n`;
  }
  return listing.trim();
}

export function isFresh() {
  if (!existsSync(ENTRY) || !existsSync(join(ONE_SHOT, 'one-shot.js'))) return false;
  try {
    return readFileSync(STAMP, 'utf8').trim() === fingerprint();
  } catch {
    return false;
  }
}

function copyAssets() {
  for (const f of walk(join(ROOT, ASSET_DIR), [])) {
    if (f.endsWith('.ts')) continue;
    const to = join(DIST, relative(ROOT, f));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(f, to);
    chmodSync(to, statSync(f).mode & 0o777);
  }
}

/**
 * Compiles to dist/ and stamps it. tsc's diagnostics go to stderr (stdout may be a pipe a test
 * reads). Returns tsc's exit code: 0 clean, 2 type errors but JavaScript emitted (stamped: it
 * runs like tsx would, and the next start does not rebuild again), 1 nothing emitted.
 */
export function build() {
  if (!existsSync(TSC)) {
    process.stderr.write('faspex-ingest: cannot build dist/: typescript (a devDependency) is not installed. Run: npm ci\n(for a production install, build first and then drop the devDependencies: npm ci && npm run build && npm prune --omit=dev)\n');
    return 1;
  }
  const before = fingerprint();
  mkdirSync(DIST, { recursive: true });
  const { spawnSync } = require('node:child_process');
  const r = spawnSync(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: ['ignore', 2, 'inherit'] });
  const code = r.status ?? 1;
  if (code === 1 || !existsSync(ENTRY)) return 1;
  copyAssets();
  if (!recordHelp(spawnSync) || !bundleOneShot()) return 1;
  const tmp = `${STAMP}.${process.pid}`;
  writeFileSync(tmp, `${before}\n`);
  renameSync(tmp, STAMP);
  return code;
}

/**
 * The CLI's help texts as commander prints them, for the one-shot path (src/cli/help-snapshot.ts).
 * stdout and stderr are not a terminal here, so commander wraps at its default width.
 */
function recordHelp(spawnSync) {
  rmSync(ONE_SHOT, { recursive: true, force: true });
  mkdirSync(ONE_SHOT, { recursive: true });
  const out = join(ONE_SHOT, 'help.json');
  const r = spawnSync(process.execPath, [join(DIST, 'src', 'cli', 'help-snapshot.js'), out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status === 0 && existsSync(out)) return true;
  process.stderr.write(`faspex-ingest: recording the help texts failed (dist/src/cli/help-snapshot.js):\n${r.stderr ?? r.error}\n`);
  return false;
}

/**
 * The one-shot path bundled (esbuild): src/cli/one-shot.ts alone, and for each of its commands
 * one file with all it loads (one-shot-fasp-url.ts, one-shot-extract.ts; htmlparser2's parser
 * tree-shaken in). A one-shot command then resolves, reads and compiles three files instead of
 * ~25 (each ESM resolution costs a realpath), see docs/benchmarks.md, one-shot commands. The
 * other packages stay outside, loaded from node_modules as everywhere else; an external one a
 * bundle imports statically would load at its start (esbuild hoists it), so the test below
 * refuses any. No module exists twice in a process: one-shot.js decides before loading anything
 * whether it runs a command (one bundle, nothing of dist/src) or leaves the process to the full
 * CLI in dist/src (test/unit/cli-one-shot.test.ts traces the modules each path loads).
 */
function bundleOneShot() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  // htmlparser2: only its parser is used; libmime: only its alias table is imported (charset.ts),
  // the rest of it is required on use, from node_modules
  const bundled = new Set(['htmlparser2', 'libmime']);
  const external = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).filter((name) => !bundled.has(name));
  const common = {
    outdir: ONE_SHOT,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: `node${pkg.engines.node.replace(/^>=/, '')}`,
    // chained to the src/ maps tsc wrote, for the commands that turn source maps on
    sourcemap: true,
    logLevel: 'warning',
    metafile: true,
  };
  const cli = join(DIST, 'src', 'cli');
  try {
    const esbuild = require('esbuild');
    // the entry: its command bundles stay separate files, imported on use
    esbuild.buildSync({ ...common, entryPoints: [join(cli, 'one-shot.js')], external: ['./one-shot-*.js'] });
    const commands = esbuild.buildSync({ ...common, entryPoints: [join(cli, 'one-shot-fasp-url.js'), join(cli, 'one-shot-extract.js')], external });
    const eager = Object.entries(commands.metafile.outputs).flatMap(([file, out]) => out.imports.filter((i) => i.external && i.kind === 'import-statement' && !i.path.startsWith('node:')).map((i) => `${relative(DIST, file)} imports ${i.path}`));
    if (eager.length > 0) throw new Error(`a package would load at every start of the command: ${eager.join(', ')}`);
    return true;
  } catch (e) {
    process.stderr.write(`faspex-ingest: bundling the one-shot commands failed: ${e.message}\n`);
    return false;
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** One builder at a time: parallel test workers may all start the CLI after an edit. */
function withLock(fn) {
  mkdirSync(DIST, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let holder;
      try {
        holder = Number(readFileSync(LOCK, 'utf8') || 0);
      } catch (r) {
        if (r.code === 'ENOENT') continue; // released between our open and our read: try again
        throw r;
      }
      // A holder that died (or had not yet written its pid long ago) leaves the lock to us.
      if (holder > 0 && !pidAlive(holder)) rmSync(LOCK, { force: true });
      else if (Date.now() > deadline) throw new Error(`faspex-ingest: waited ${LOCK_WAIT_MS / 1000}s for another build (${LOCK}); remove it if no build is running`, { cause: e });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

/**
 * For bin/faspex-ingest in a source checkout: make sure dist/ was built from the sources as they
 * are now. Rebuilds when typescript is installed; otherwise stops with the command to run.
 */
export function ensureFreshBuild() {
  if (isFresh()) return;
  if (!existsSync(TSC)) {
    const why = existsSync(ENTRY) ? 'dist/ is older than the sources in src/' : 'dist/ has not been built';
    process.stderr.write(`faspex-ingest: ${why}, and typescript (a devDependency) is not installed to rebuild it.\nRun: npm ci   (or, where typescript is installed: npm run build)\n`);
    process.exit(1);
  }
  withLock(() => {
    if (isFresh()) return; // another process built it while we waited
    const why = existsSync(ENTRY) ? 'sources changed since dist/ was built' : 'dist/ has not been built';
    process.stderr.write(`faspex-ingest: ${why}; building it (npm run build)\n`);
    if (build() === 1) {
      process.stderr.write('faspex-ingest: the build failed (see above); fix it and run: npm run build\n');
      process.exit(1);
    }
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // without typescript (npm ci --omit=dev) a dist/ built from these very sources is still good
  const ifStale = process.argv.includes('--if-stale') || !existsSync(TSC);
  process.exitCode = withLock(() => (ifStale && isFresh() ? 0 : build()));
}
