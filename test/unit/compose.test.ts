/**
 * docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so they are
 * checked the way stack.md §5 recommends: dclint for the compose schema and style, plus a few
 * assertions on the facts the deployment depends on. No YAML library is installed; services are
 * cut out of the file by indentation, which the file's own lint (consistent 2-space) guarantees.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SECRET_VARIABLES } from '../../src/config/variables.js';

const ROOT = join(import.meta.dirname, '..', '..');
const COMPOSE = join(ROOT, 'docker-compose.yml');
const DCLINT = join(ROOT, 'node_modules', '.bin', 'dclint');
const run = promisify(execFile);

interface DclintReport {
  filePath: string;
  messages: { rule: string; type: 'error' | 'warning'; message: string; line: number }[];
}

const compose = readFileSync(COMPOSE, 'utf8');

/** the lines of one service, from `  name:` to the next line indented two spaces or less */
function service(name: string): string {
  const lines = compose.split('\n');
  const start = lines.indexOf(`  ${name}:`);
  expect(start, `service ${name}`).toBeGreaterThan(0);
  const end = lines.findIndex((l, i) => i > start && l !== '' && !l.startsWith('   '));
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

describe('docker-compose.yml', () => {
  it('passes dclint with no errors and no warnings', async () => {
    // -q: exit status reflects errors only; the JSON report below also holds the warnings.
    const quiet = await run(DCLINT, ['-q', 'docker-compose.yml'], { cwd: ROOT }).then(() => 0, (e: { code?: number; stdout?: string }) => {
      throw new Error(`dclint exited ${e.code}:\n${e.stdout}`);
    });
    expect(quiet).toBe(0);
    const { stdout } = await run(DCLINT, ['--formatter', 'json', 'docker-compose.yml'], { cwd: ROOT });
    const report = JSON.parse(stdout) as DclintReport[];
    expect(report.flatMap((f) => f.messages.map((m) => `${m.line}: ${m.rule}: ${m.message}`))).toEqual([]);
  });

  it('has the services and settings the deployment guide relies on', () => {
    expect(compose).not.toMatch(/^version:/m);
    for (const name of ['dashboard', 'listener', 'workers']) {
      const block = service(name);
      expect(block, name).toContain('env_file: .env');
      expect(block, name).toContain('REDIS_URL: redis://redis:6379');
      expect(block, name).toMatch(/depends_on:\n\s+redis:\n\s+condition: service_healthy/);
    }
    expect(service('listener')).toContain('command: ["listen"]');
    expect(service('dashboard')).toContain('command: ["dashboard"]');
    expect(service('dashboard')).toContain("'127.0.0.1:3000:3000'");
    const workers = service('workers');
    expect(workers).toContain('command: ["work"]');
    expect(workers).toMatch(/deploy:\n\s+replicas: 2/);
    expect(workers).toContain('- downloads:/downloads');
    expect(workers).toMatch(/stop_grace_period: (\d+)s/);
    expect(Number(/stop_grace_period: (\d+)s/.exec(workers)![1])).toBeGreaterThanOrEqual(60);
    const redis = service('redis');
    expect(redis).toContain('"--appendonly", "yes"');
    expect(redis).toContain('"--maxmemory-policy", "noeviction"');
    expect(redis).toContain('test: ["CMD", "redis-cli", "ping"]');
    expect(compose).toMatch(/^volumes:\n {2}downloads:\n {2}redis-data:/m);
  });

  it('hands passwords over as compose secrets read through NAME_FILE, never through .env', () => {
    const declared = new Map([...compose.matchAll(/^ {2}([a-z_]+):\n {4}(?:#.*\n {4})?file: (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const wanted: Record<string, string[]> = {
      dashboard: ['DASHBOARD_PASSWORD'],
      listener: ['IMAP_PASSWORD', 'DASHBOARD_PASSWORD'],
      workers: ['FASPEX_PASSWORD', 'DASHBOARD_PASSWORD'],
    };
    for (const [name, variables] of Object.entries(wanted)) {
      const block = service(name);
      for (const variable of variables) {
        expect(SECRET_VARIABLES, variable).toContain(variable);
        const secret = variable.toLowerCase();
        expect(block, `${name} ${variable}`).toContain(`${variable}_FILE: /run/secrets/${secret}`);
        expect(block, `${name} ${variable}`).toMatch(new RegExp(`secrets:\\n(\\s+- \\w+\\n)*\\s+- ${secret}\\n`));
        expect(declared.get(secret), secret).toBe(`./secrets/${secret}`);
      }
    }
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    // a password left in .env would clash with its _FILE form ("both are set")
    for (const variable of ['IMAP_PASSWORD', 'DASHBOARD_PASSWORD', 'FASPEX_PASSWORD']) expect(example).not.toMatch(new RegExp(`^${variable}=`, 'm'));
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');

  it('compiles in a build stage and runs only dist/ and production dependencies, on the current LTS, as a non-root user', () => {
    const stages = dockerfile.split(/^(?=FROM )/m).slice(1);
    expect(stages, 'two stages').toHaveLength(2);
    const [build, runtime] = stages as [string, string];
    expect(build).toMatch(/^FROM node:24-bookworm-slim AS build$/m);
    // npm ci in a RUN of its own (a CA build secret may be mounted for it, never kept in a layer)
    expect(build).toMatch(/^RUN\b(?:[^\n]*\\\n)*[^\n]*\bnpm ci\b/m);
    expect(build).toContain('node scripts/build.mjs');
    expect(build).toContain('npm prune --omit=dev');
    expect(runtime).toMatch(/^FROM node:24-bookworm-slim$/m);
    const copies = runtime.split('\n').filter((l) => /^(COPY|ADD)\b/.test(l));
    expect(copies.map((l) => l.split(/\s+/).at(-1))).toEqual(['./node_modules', './dist', './', 'bin']);
    // no sources, no build tools, no TypeScript loader in the image that runs
    expect(runtime).not.toMatch(/^(COPY|ADD)\b.*\b(src|workers|test|tsconfig)/m);
    expect(runtime.split('\n').filter((l) => !l.startsWith('#')).join('\n')).not.toMatch(/tsx|typescript/);
    expect(runtime).not.toMatch(/^COPY \. /m);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toContain('ENTRYPOINT ["node", "bin/faspex-ingest"]');
    expect(runtime).toContain('CMD ["run"]');
    expect(runtime).toContain('VOLUME ["/data", "/downloads"]');
    // IBM's licence: ascp is mounted at run time, never copied into the image.
    expect(dockerfile).not.toMatch(/^(COPY|ADD)\b.*ascp/im);
  });

  it('keeps secrets, local state and dependencies out of the build context', () => {
    for (const entry of ['.env', 'secrets', 'node_modules', 'data', 'downloads', '.git', 'aspera']) expect(dockerignore, entry).toContain(entry);
    // what the build stage compiles from (the demo's stand-ins are in src/standins)
    for (const needed of ['src', 'workers', 'bin', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json', '.npmrc']) expect(dockerignore, needed).not.toContain(needed);
    expect(dockerignore).toContain('dist');
    // tests stay out of the build context, stand-ins included: nothing under test/ is compiled
    expect(dockerignore).toContain('test');
  });
});
