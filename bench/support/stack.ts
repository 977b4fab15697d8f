/**
 * The stand-ins a benchmark runs against, started fresh for each script and stopped by it:
 * a non-persistent Redis, a Dovecot, the Faspex simulator, and `faspex-ingest` itself as a real
 * child process. Every stop is registered as it is started, so a broken benchmark still leaves
 * nothing running (the caller's `finally` calls stopAll).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisServer, type RedisServer } from '../../src/service/redis-server.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { serviceEnv } from '../../test/support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../../test/support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../../test/support/temp.js';

export { waitFor };

export interface Stack {
  dir: string;
  redis: RedisServer;
  dovecot: Dovecot;
  sim: FaspexSim;
  prefix: string;
  env: Record<string, string>;
  /** start `faspex-ingest <command>` and wait until it says it is running */
  startService(command: string[], extra?: Record<string, string>): Promise<ServiceProcess>;
  stopAll(): Promise<void>;
}

export async function startStack(label: string, extraEnv: Record<string, string> = {}): Promise<Stack> {
  const dir = tempDir(`bench-${label}`);
  const stops: Array<() => Promise<void> | void> = [() => dir.remove()];
  const stopAll = async () => {
    // reverse order: services before the servers they talk to
    for (const stop of stops.splice(0).reverse()) await Promise.resolve(stop()).catch(() => undefined);
  };
  try {
    const redis = await startRedisServer({ dir: join(dir.path, 'redis') });
    stops.push(() => redis.stop());
    const dovecot = await startDovecot();
    stops.push(() => dovecot.stop());
    const sim = await createFaspexSim();
    stops.push(() => sim.close());
    const prefix = uniqueName(label);
    // LOG_LEVEL stays at the service's default (info): a benchmark should pay for what a
    // deployment pays for.
    const env = serviceEnv({ redisUrl: redis.url, prefix, dovecot, sim, dir: dir.path, extra: { ...extraEnv, ...benchServiceEnv() } });
    return {
      dir: dir.path,
      redis,
      dovecot,
      sim,
      prefix,
      env,
      async startService(command, extra = {}) {
        const service = serviceProcess(command, { ...env, ...extra }, dir.path);
        stops.push(() => service.stop('SIGKILL').then(() => undefined));
        await waitFor(() => /: running/.test(service.output()) || service.child.exitCode !== null, {
          what: `faspex-ingest ${command.join(' ')} to start`,
          // generous: on the shared two cores a start takes seconds, more with --cpu-prof
          timeoutMs: 180_000,
        });
        if (service.child.exitCode !== null) throw new Error(`faspex-ingest ${command.join(' ')} exited at start:\n${service.output().slice(-2000)}`);
        return service;
      },
      stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Peak resident set (VmHWM) of a live process, in bytes. */
export function peakRss(pid: number): number {
  return memoryOf(pid).peak;
}

/**
 * VmHWM and VmRSS of one live process, in bytes: that process alone, so an embedded
 * redis-server (a child process of its own) is never counted. Throws unless the process is
 * `node` itself (not a wrapper shell or a forked helper) running without a TypeScript loader:
 * the figures are meant for the built runtime a deployment runs.
 */
export function memoryOf(pid: number): { peak: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`no ${field} for pid ${pid}`);
    return Number(m[1]) * 1024;
  };
  const name = /^Name:\s+(\S+)/m.exec(status)?.[1];
  if (name !== 'node' && name !== 'MainThread') throw new Error(`pid ${pid} is ${name ?? 'unknown'}, not node: the figure would not be the service's`);
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  if (cmdline.some((a) => /tsx|loader/.test(a))) throw new Error(`pid ${pid} runs a TypeScript loader (${cmdline.join(' ')}): measure the built runtime`);
  return { peak: kb('VmHWM'), rss: kb('VmRSS') };
}

/** Pino JSON lines of a service's output whose `msg` matches, with their `time`. */
export function logLines(output: string, msg: RegExp): Array<{ time: number; line: Record<string, unknown> }> {
  const out: Array<{ time: number; line: Record<string, unknown> }> = [];
  for (const text of output.split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      const line = JSON.parse(text) as Record<string, unknown>;
      if (typeof line.msg === 'string' && msg.test(line.msg)) out.push({ time: Date.parse(String(line.time)), line });
    } catch {
      /* a partial line at the end of the buffer */
    }
  }
  return out;
}

/**
 * The service starts as users start it: the bin file itself, through its sh line, on the `node`
 * first in PATH (so `scripts/node24.sh npx tsx bench/...` measures Node 24). BENCH_NODE_ARGS (e.g.
 * --cpu-prof) runs it as `node FLAGS bin` instead, so a benchmark can be profiled unchanged.
 */
function serviceProcess(command: string[], env: Record<string, string>, cwd: string): ServiceProcess {
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return startServiceProcess(command, env, cwd, nodeArgs.length > 0 ? nodeArgs : 'as-installed', process.env.BENCH_BIN || undefined);
}

/** BENCH_SERVICE_ENV="NAME=value NAME=value": variables for the service under test, to compare settings in one session. */
function benchServiceEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (process.env.BENCH_SERVICE_ENV ?? '').split(' ').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`BENCH_SERVICE_ENV: "${pair}" is not NAME=value`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}
