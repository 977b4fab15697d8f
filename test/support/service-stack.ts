/**
 * The stand-ins a real `faspex-ingest` process runs against, for one describe block: its own
 * Dovecot, Faspex simulator, folder, queue prefix and a free port, with the environment
 * serviceEnv makes of them. Started in a beforeAll, stopped in an afterAll, after every process
 * started through `start`. The block's own hooks run after the stack's beforeAll and before its
 * afterAll (vitest runs after-hooks in reverse).
 */
import { afterAll, beforeAll, inject } from 'vitest';
import { freePort } from '../../src/service/redis-server.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim, type FaspexSimOptions } from '../../src/standins/faspex-sim/index.js';
import { serviceEnv } from './service-env.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';
import { tempDir, uniqueName, waitFor } from './temp.js';

export interface ServiceStack {
  /** made in the beforeAll, so that collecting the tests (`vitest list`) leaves no folder behind */
  dir: ReturnType<typeof tempDir>;
  dovecot: Dovecot;
  sim: FaspexSim;
  env: Record<string, string>;
  /** free when the stack started; the block gives it to DASHBOARD_PORT or METRICS_PORT if it wants one */
  port: number;
  /** every process `start` gave, in order */
  readonly processes: ServiceProcess[];
  /** a `faspex-ingest <command>` in the folder, SIGKILLed in the afterAll if still running */
  start(command: string[], env?: Record<string, string>): ServiceProcess;
  /** `run`, once it says it is running */
  run(env?: Record<string, string>, what?: string): Promise<ServiceProcess>;
}

export interface ServiceStackOptions {
  sim?: FaspexSimOptions;
  /** before the environment is made: users, boxes, packages already there */
  prepare?: (stack: ServiceStack) => void;
  /** the block's environment from serviceEnv's (may write files into the folder) */
  env?: (base: Record<string, string>, stack: ServiceStack) => Record<string, string>;
}

export function serviceStack(label: string, options: ServiceStackOptions = {}): ServiceStack {
  const stack = {
    processes: [],
    start(command, env = stack.env) {
      const p = startServiceProcess(command, env, stack.dir.path);
      stack.processes.push(p);
      return p;
    },
    async run(env = stack.env, what = 'the service') {
      const p = stack.start(['run'], env);
      await waitFor(() => p.output().includes('running; dashboard at'), { what: `${what} to start`, timeoutMs: 60_000 });
      return p;
    },
  } as Pick<ServiceStack, 'processes' | 'start' | 'run'> as ServiceStack;
  beforeAll(async () => {
    stack.dir = tempDir(label);
    [stack.dovecot, stack.sim, stack.port] = await Promise.all([startDovecot(), createFaspexSim(options.sim), freePort()]);
    options.prepare?.(stack);
    const base = serviceEnv({ redisUrl: inject('redisUrl'), prefix: uniqueName(label), dovecot: stack.dovecot, sim: stack.sim, dir: stack.dir.path });
    stack.env = options.env ? options.env(base, stack) : base;
  }, 60_000);
  afterAll(async () => {
    await Promise.all(stack.processes.map((p) => p.stop('SIGKILL')));
    await Promise.all([stack.dovecot?.stop(), stack.sim?.close()]);
    stack.dir?.remove();
  });
  return stack;
}
