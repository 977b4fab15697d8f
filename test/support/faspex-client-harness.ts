/**
 * Test wiring for the Faspex client against the simulator: a config pointing at the sim, a
 * logger whose lines are kept, a resolver whose connections are recorded, all torn down when the
 * test ends.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';
import type { FaspexConfig } from '../../src/config/config.js';
import { IngestError } from '../../src/errors.js';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { createFaspexAgent } from '../../src/faspex/agent.js';
import { parsePackageLink } from '../../src/faspex/link.js';
import type { ResolvedPackage } from '../../src/faspex/resolved-package.js';
import { createResolver, type ClosableResolver } from '../../src/faspex/resolver.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { createFaspexSim, type FaspexSim, type FaspexSimOptions } from '../../src/standins/faspex-sim/index.js';

export interface ClientHarness {
  sim: FaspexSim;
  config: FaspexConfig;
  logger: Logger;
  /** every log line, as JSON text */
  logs: string[];
  resolver: ClosableResolver;
  /** origins of every request the resolver dispatched, and of every connection it opened */
  dispatched: string[];
  connected: string[];
  resolve(link: string, signal?: AbortSignal): Promise<ResolvedPackage>;
  /** the IngestError a resolve ends with (fails the test if it succeeds or throws anything else) */
  failure(link: string, signal?: AbortSignal): Promise<IngestError>;
}

export async function clientHarness(options: { sim?: FaspexSimOptions; config?: Partial<FaspexConfig> | ((sim: FaspexSim) => Partial<FaspexConfig>); allow?: string | ((sim: FaspexSim) => string) } = {}): Promise<ClientHarness> {
  const sim = await createFaspexSim(options.sim);
  onTestFinished(() => sim.close());
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
  const config: FaspexConfig = {
    allowedHosts: parseAllowlist(typeof options.allow === 'function' ? options.allow(sim) : (options.allow ?? sim.allowEntry)),
    username: sim.credentials.username,
    password: sim.credentials.password,
    caFile: sim.caFile,
    insecureTls: false,
    timeoutMs: 10_000,
    faspex5Clients: undefined,
    ...(typeof options.config === 'function' ? options.config(sim) : options.config),
  };
  const dispatched: string[] = [];
  const connected: string[] = [];
  const agent = createFaspexAgent(config, logger);
  agent.on('connect', (origin) => void connected.push(String(origin)));
  const dispatcher = agent.compose((dispatch) => (opts, handler) => {
    dispatched.push(String(opts.origin));
    return dispatch(opts, handler);
  });
  const resolver = createResolver(config, logger, { dispatcher });
  onTestFinished(async () => {
    await resolver.close();
    await agent.close();
  });
  const resolve = (link: string, signal?: AbortSignal) => resolver.resolve(parsePackageLink(link), signal);
  return {
    sim, config, logger, logs, resolver, dispatched, connected, resolve,
    async failure(link, signal) {
      try {
        await resolve(link, signal);
      } catch (e) {
        if (e instanceof IngestError) return e;
        throw e;
      }
      throw new Error('expected the resolve to fail');
    },
  };
}

/** A TCP server that is NOT Faspex and must never be contacted: counts connections. */
export async function tripwire(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  onTestFinished(close);
  return { port: (server.address() as AddressInfo).port, connections: () => count, close };
}
