/**
 * The container image as users build and run it: the repository's Dockerfile built with
 * `buildah bud --isolation chroot` (no Docker daemon; containers.md in the shared references),
 * then run with `buildah run --isolation chroot`, which shares the host's network, so what the
 * image serves is reached on the host's loopback. Where the base image cannot be pulled (no
 * image registry, as in CI), scripts/image-base.sh makes it and says so.
 *
 * Runs once per CI run: `.ci/run` sets FASPEX_IMAGE_TEST=skip on its second Node line (the
 * image has its own Node, so building it again there proves nothing new). Skipped, with the
 * reason in its name, where no builder exists (not root, or no buildah).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/service/redis-server.js';
import { tempDir, waitFor } from '../support/temp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const IMAGE = 'localhost/faspex-ingest:image-test';
const HOST_CA = '/etc/ssl/certs/ca-certificates.crt';
const BUILD_MS = 3_600_000;

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, command)));
}

function skipReason(): string | undefined {
  if (process.env.FASPEX_IMAGE_TEST === 'skip') return 'FASPEX_IMAGE_TEST=skip: the image was built and checked on the other Node line';
  if (process.platform !== 'linux') return 'building the image needs Linux';
  if (process.getuid?.() !== 0) return 'buildah --isolation chroot needs root here';
  if (!onPath('buildah') || !onPath('podman')) return 'no image builder: apt-get install -y buildah podman debootstrap';
  return undefined;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], timeoutMs = 300_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function ok(command: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await run(command, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const reason = skipReason();
// vitest prints a skipped suite's name only in verbose mode: say why here too
if (reason) console.log(`the image test is skipped: ${reason}`);

describe.skipIf(reason !== undefined)(`the container image${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const tmp = tempDir('image');
  let container = '';
  let rootfs = '';
  const started: ChildProcess[] = [];

  /** a command in the image, as its USER (node) unless told otherwise, from its WORKDIR (/app) */
  const inImage = (args: string[], options: { env?: Record<string, string>; volumes?: string[]; timeoutMs?: number } = {}) =>
    run('buildah', ['run', '--isolation', 'chroot', ...Object.entries(options.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]), ...(options.volumes ?? []).flatMap((v) => ['-v', v]), container, '--', ...args], options.timeoutMs);

  beforeAll(async () => {
    const base = await run(join(ROOT, 'scripts', 'image-base.sh'), [], BUILD_MS);
    if (base.code !== 0) throw new Error(`scripts/image-base.sh failed:\n${base.stderr.slice(-4000)}`);
    console.log(base.stdout.trim());
    const start = Date.now();
    // The host's CA bundle as the build secret: this machine's registry traffic passes a
    // TLS-inspecting proxy, as a corporate network's does (docs/deployment.md).
    await ok('buildah', ['bud', '--isolation', 'chroot', '--pull-never', '--layers', '--secret', `id=npm_ca,src=${HOST_CA}`, '-t', IMAGE, '.'], BUILD_MS);
    const size = Number((await ok('podman', ['image', 'inspect', IMAGE, '--format', '{{.Size}}'])).trim());
    console.log(`image: ${IMAGE} built in ${Math.round((Date.now() - start) / 1000)} s, ${(size / 1e6).toFixed(0)} MB`);
    container = (await ok('buildah', ['from', '--pull-never', IMAGE])).trim();
    rootfs = (await ok('buildah', ['mount', container])).trim();
  }, BUILD_MS * 2);

  afterAll(async () => {
    for (const child of started) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (container) {
      await run('buildah', ['umount', container]);
      await run('buildah', ['rm', container]);
    }
    tmp.remove();
  }, 120_000);

  it('holds the compiled program and production dependencies only: no TypeScript, tsx, tests or sources', () => {
    const app = join(rootfs, 'app');
    expect(existsSync(join(app, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
    expect(readdirSync(app).sort()).toEqual(['bin', 'dist', 'node_modules', 'package.json']);
    // one-shot/: the bundles of fasp-url, extract and the help texts (scripts/build.mjs)
    expect(readdirSync(join(app, 'dist')).sort()).toEqual(['one-shot', 'src', 'workers']);
    expect(existsSync(join(app, 'dist', 'one-shot', 'help.json'))).toBe(true);
    for (const dev of ['typescript', 'tsx', 'vitest', 'esbuild', 'eslint', '.bin/tsc', '.bin/tsx']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    const ours = walk(app).filter((f) => !f.includes('/node_modules/')).map((f) => relative(app, f));
    expect(ours.filter((f) => f.endsWith('.ts') || f.includes('test/') || f.includes('bench/'))).toEqual([]);
    // the npm_ca build secret was mounted for one RUN of the build stage only
    expect(existsSync(join(rootfs, 'run', 'secrets', 'npm_ca'))).toBe(false);
  });

  it('runs as the unprivileged node user (uid 1000) and answers --help and fasp-url', async () => {
    const user = await ok('podman', ['image', 'inspect', IMAGE, '--format', '{{.Config.User}}']);
    expect(user.trim()).toBe('node');
    const id = await inImage(['id', '-u']);
    expect(id.stdout.trim()).toBe('1000');
    const help = await inImage(['node', 'bin/faspex-ingest', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: faspex-ingest');
    const url = await inImage(['node', 'bin/faspex-ingest', 'fasp-url', 'faspe://xfer@faspex.example.com:33001/aspera/faspex?token=abc']);
    expect(url.code, url.stderr).toBe(0);
    expect(JSON.parse(url.stdout)).toMatchObject({ remote_host: 'faspex.example.com', remote_user: 'xfer', token: '***' });
  }, 300_000);

  it('`run` starts its embedded Redis and answers /healthz, as uid 1000', async () => {
    const data = join(tmp.path, 'data');
    mkdirSync(data);
    chownSync(data, 1000, 1000);
    const port = await freePort();
    const env = {
      DASHBOARD_PORT: String(port),
      DASHBOARD_USER: 'ops',
      DASHBOARD_PASSWORD: 'image-test-password',
      // an inbox that refuses connections: /healthz says so and stays up
      IMAP_HOST: '127.0.0.1',
      IMAP_PORT: '1',
      IMAP_USER: 'ingest',
      IMAP_PASSWORD: 'unused',
      FASPEX_ALLOWED_HOSTS: 'faspex.example.com',
      // the image has no ascp (IBM's licence); the stand-in it ships for demo satisfies the check
      ASCP_PATH: '/app/dist/src/standins/fake-ascp/ascp',
      ASCP_SSH_KEY: '/app/package.json',
    };
    const args = ['run', '--isolation', 'chroot', ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]), '-v', `${data}:/data`, container, '--', 'node', 'bin/faspex-ingest', 'run'];
    let output = '';
    const child = spawn('buildah', args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));
    child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-8000)));

    const exitedEarly = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`run exited ${code}:\n${output}`))));
    const health = await Promise.race([
      exitedEarly,
      waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
          return res ? { status: res.status, body: (await res.json()) as { checks: Record<string, { status: string }> } } : undefined;
        },
        { timeoutMs: 240_000, intervalMs: 500, what: '/healthz of run in the image' },
      ),
    ]);
    expect(health.status).toBe(200);
    expect(health.body.checks.redis!.status).toBe('ok');
    expect(health.body.checks.imap!.status).toBe('down');

    // the service process, found through its process group, runs as uid 1000, and so does what it wrote
    const uids = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
          // the service itself (node) and its redis-server; not buildah, whose argv names them too
          const program = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/)[0]!;
          const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
          return pgid === child.pid && /(^|\/)(node|redis-server)$/.test(program) ? uid : undefined;
        } catch {
          return undefined; // gone meanwhile
        }
      })
      .filter((u) => u !== undefined);
    expect(uids.length).toBeGreaterThanOrEqual(2); // node and its redis-server
    expect(new Set(uids)).toEqual(new Set([1000]));
    expect(statSync(join(data, 'redis')).uid).toBe(1000);

    exitedEarly.catch(() => undefined); // from here on, exiting is what we ask for
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }, 360_000);

  it('`demo --exit` completes its three sample packages', async () => {
    const demo = await inImage(['node', 'bin/faspex-ingest', 'demo', '--exit', '--dashboard-port', '0'], { timeoutMs: 300_000 });
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain('STAND-IN Faspex server');
    // /app is read-only to the node user: the demo says where it went instead
    expect(demo.stdout).toContain('everything lives in /tmp/faspex-ingest-demo');
    // the image leaves Dovecot out (Dockerfile, DEMO_IMAP): the demo says so and carries on
    expect(demo.stdout).toContain('Dovecot is not installed');
    expect(demo.stdout).toContain('all 3 sample packages are on disk.');
  }, 360_000);
});
