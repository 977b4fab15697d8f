/**
 * A Faspex 4 server simulator for tests: HTTPS on 127.0.0.1 (port 0) with a certificate from the
 * test CA, packages served from an on-disk store that the fake ascp copies from, tokens it mints
 * with src/standins/sim-token.ts, fault switches, a request log and a connection counter.
 *
 *   const sim = await createFaspexSim();
 *   const pkg = sim.addPackage({ title: 'Q3 report', files: { 'a.txt': 'hello', 'big.bin': 5_000_000 } });
 *   pkg.links.external   // https://127.0.0.1:PORT/aspera/faspex/external_deliveries/N?passcode=…
 *   sim.fault(pkg, { kind: 'status', status: 503 });
 *   await sim.close();
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTestCa } from '../test-ca.js';
import { faspUrl, tokenFor, type FaspTarget } from './documents.js';
import { appliesTo, type SimFault } from './faults.js';
import { route, type SimRequest } from './routes.js';
import { PackageStore, type AddPackageSpec, type SimPackage } from './store.js';
import { createFaspex5Sim, type Faspex5Sim } from './faspex5-index.js';
import { isFaspex5Path, routeFaspex5 } from './faspex5-routes.js';
import { createFaspex5State, type Faspex5SimOptions } from './faspex5-sim.js';

export type { AddPackageSpec, SimPackage, SimRecipient } from './store.js';
export type { SimFault, FaultScope } from './faults.js';
export type { SimRequest } from './routes.js';
export type { Faspex5Sim } from './faspex5-index.js';

export interface FaspexSimOptions {
  /** package store root; default: a temp dir removed by close() */
  storeDir?: string;
  /** HMAC secret for tokens; default: random */
  tokenSecret?: string;
  /** web root; default '/aspera/faspex' ('' for none) */
  prefix?: string;
  /** registered users: name → password; default { alice: <random> } */
  users?: Record<string, string>;
  /** default 'https' (test CA certificate); 'http' for plain-http tests */
  protocol?: 'https' | 'http';
  /** a different certificate (e.g. from an untrusted createTestCa()) */
  tls?: { key: string; cert: string };
  /** FASP URL host, SSH port, UDP port, user; default 127.0.0.1, 33001, 33001, faspex */
  fasp?: Partial<FaspTarget>;
  /** token lifetime; default 1 hour */
  tokenTtlMs?: number;
  /** the Faspex 5 side (public links, API): auth flow and transfer-spec shape */
  faspex5?: Faspex5SimOptions;
}

export interface FaspexSim {
  /** e.g. https://127.0.0.1:PORT/aspera/faspex */
  readonly baseUrl: string;
  /** e.g. https://127.0.0.1:PORT */
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:PORT`: what FASPEX_ALLOWED_HOSTS needs (prefix http:// for protocol 'http') */
  readonly allowEntry: string;
  /** PEM file of the CA that signed the server certificate: FASPEX_CA_FILE */
  readonly caFile: string;
  /** the store root the fake ascp serves from */
  readonly storeDir: string;
  /** the secret tokens are signed with (checkToken in sim-token.ts) */
  readonly tokenSecret: string;
  readonly users: Readonly<Record<string, string>>;
  /** the first user, for FASPEX_USERNAME / FASPEX_PASSWORD */
  readonly credentials: { username: string; password: string };
  readonly fasp: FaspTarget;
  /** every request, in arrival order (secrets included: it is the server's own log) */
  readonly requests: SimRequest[];
  /** TCP connections accepted so far */
  readonly connections: number;
  readonly packages: ReadonlyMap<string, SimPackage>;
  addPackage(spec: AddPackageSpec): SimPackage;
  /** a package by itself, its uuid or any of its links */
  findPackage(target: SimPackage | string): SimPackage | undefined;
  /** sets (or with null clears) a fault for a package/link/uuid, or for every request with '*' */
  fault(target: SimPackage | string | '*', fault: SimFault | null): void;
  clearFaults(): void;
  /** a FASP URL for the package with a freshly minted token (what an external link yields) */
  faspUrlWithToken(pkg: SimPackage, ttlMs?: number): string;
  /** the same server as a Faspex 5 (faspex5-index.ts) */
  readonly faspex5: Faspex5Sim;
  /** idempotent */
  close(): Promise<void>;
}

export async function createFaspexSim(options: FaspexSimOptions = {}): Promise<FaspexSim> {
  const ownedStore = options.storeDir === undefined ? mkdtempSync(join(tmpdir(), 'fi-faspex-store-')) : undefined;
  const store = new PackageStore(options.storeDir ?? ownedStore!);
  const tokenSecret = options.tokenSecret ?? randomBytes(24).toString('hex');
  const prefix = (options.prefix ?? '/aspera/faspex').replace(/\/+$/, '');
  const users = options.users ?? { alice: `pw-${randomBytes(8).toString('hex')}` };
  const [firstUser] = Object.keys(users);
  if (firstUser === undefined) throw new Error('faspex-sim: at least one user is needed');
  const protocol = options.protocol ?? 'https';
  const fasp: FaspTarget = { host: '127.0.0.1', sshPort: 33001, udpPort: 33001, user: 'faspex', ...options.fasp };
  const ca = await getTestCa();
  const f5 = createFaspex5State(prefix, options.faspex5);

  const requests: SimRequest[] = [];
  const packageFaults = new Map<string, SimFault>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  let origin = '';
  let closing: Promise<void> | undefined;

  const faultFor = (pkg: SimPackage | undefined, endpoint: 'description' | 'issue-token') => {
    for (const key of [pkg?.uuid, '*']) {
      const f = key === undefined ? undefined : packageFaults.get(`${key}|${endpoint}`);
      if (f) return f;
    }
    return undefined;
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1 << 20) chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://sim');
      requests.push({
        method: req.method ?? '', url: req.url ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams),
        headers: { ...req.headers }, rawHeaders: [...req.rawHeaders], body, at: Date.now(),
      });
      const tokenTtlMs = options.tokenTtlMs ?? 3_600_000;
      (isFaspex5Path(url.pathname, prefix)
        ? routeFaspex5(req, res, body, { state: f5, prefix, origin, tokenSecret, tokenTtlMs, target: fasp, timers })
        : route(req, res, body, { prefix, origin, store, users, tokenSecret, tokenTtlMs, target: fasp, faultFor, timers })
      ).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`faspex-sim: ${String(e)}\n`);
      });
    });
  };

  const server: Server = protocol === 'https'
    ? createHttpsServer({ key: options.tls?.key ?? ca.serverKeyPem, cert: options.tls?.cert ?? ca.serverCertPem }, handler)
    : createHttpServer(handler);
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A client that gives up mid-handshake (an untrusted certificate) is not a server error.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `${protocol}://127.0.0.1:${port}`;
  const baseUrl = `${origin}${prefix}`;

  return {
    baseUrl,
    origin,
    host: '127.0.0.1',
    port,
    allowEntry: protocol === 'https' ? `127.0.0.1:${port}` : `http://127.0.0.1:${port}`,
    caFile: ca.caFile,
    storeDir: store.root,
    tokenSecret,
    users,
    credentials: { username: firstUser, password: users[firstUser]! },
    fasp,
    requests,
    get connections() {
      return connections;
    },
    packages: store.packages,
    addPackage: (spec) => store.add(spec, { baseUrl, defaultRecipient: firstUser, faspUrl: (pkg) => faspUrl(pkg, fasp) }),
    findPackage: (target) => store.find(target),
    fault(target, fault) {
      const key = target === '*' ? '*' : store.find(target)?.uuid;
      if (key === undefined) throw new Error('faspex-sim: fault() for an unknown package');
      for (const endpoint of ['description', 'issue-token'] as const) {
        if (fault === null) packageFaults.delete(`${key}|${endpoint}`);
        else if (appliesTo(fault, endpoint)) packageFaults.set(`${key}|${endpoint}`, fault);
      }
    },
    clearFaults: () => packageFaults.clear(),
    faspUrlWithToken: (pkg, ttlMs = 3_600_000) => faspUrl(pkg, fasp, tokenFor(pkg.sourcePath, tokenSecret, ttlMs)),
    faspex5: createFaspex5Sim({ state: f5, store, baseUrl, server: `127.0.0.1:${port}`, defaultUser: firstUser, faspUrl: (pkg) => faspUrl(pkg, fasp) }),
    close() {
      closing ??= shutdown();
      return closing;
    },
  };

  async function shutdown(): Promise<void> {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
    if (ownedStore) rmSync(ownedStore, { recursive: true, force: true });
  }
}
