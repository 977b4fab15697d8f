/**
 * Wiring for tests of the ascp runner with the fake ascp: a package store, a resolver that mints
 * sim tokens (no HTTP), a per-test ascp wrapper carrying the FAKE_* switches (so tests never
 * touch process.env), a config, a logger whose lines are kept, and the fake's invocation log.
 */
import { FAKE_ASCP, invocations, routes, type Invocation, type Route } from '../../src/standins/fake-ascp/records.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import type { DownloadContext } from '../../src/ascp/download-package.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { TransferSpec } from '../../src/fasp/transfer-spec.js';
import type { PackageLink } from '../../src/faspex/link.js';
import type { PackageResolver, ResolvedPackage } from '../../src/faspex/resolved-package.js';
import { createLogger } from '../../src/log/logger.js';
import { mintToken } from '../../src/standins/sim-token.js';
import { tempDir } from './temp.js';

export { alive, FAKE_ASCP, type Invocation } from '../../src/standins/fake-ascp/records.js';


export interface FakeAscpSetup {
  root: string;
  downloads: string;
  store: string;
  stateDir: string;
  secret: string;
  /** `/<uuid>.aspera-package/PKG - <title>` */
  sourcePath: string;
  link: PackageLink;
  /** every resolve() call gets a fresh token; tokens handed out, in order */
  tokens: string[];
  resolveCalls: number;
  resolver: PackageResolver;
  config: Config;
  logs: string[];
  lines: string[];
  ctx(over?: Partial<DownloadContext>): DownloadContext;
  invocations(): Invocation[];
  /** the way each run got through the simulated firewall */
  routes(): Route[];
}

export interface SetupOptions {
  files?: Record<string, number | string>;
  /** FAKE_ASCP_FAIL */
  fail?: string;
  rateBps?: number;
  ignoreSignals?: boolean;
  title?: string;
  /** token lifetime per resolve() call (1-based); negative = already expired */
  tokenTtlMs?: (call: number) => number;
  stallSeconds?: number;
  /** FAKE_ASCP_BLOCKED: the simulated firewall */
  blocked?: string;
  /** FAKE_ASCP_WSS_PORT */
  wssPort?: number;
  /** merged over the transfer spec the resolver hands out (wss_enabled, http_fallback, …) */
  spec?: Partial<TransferSpec>;
  /** extra configuration variables (ASCP_WSS, ASCP_HTTP_FALLBACK, ASCP_PROXY, HTTPS_PROXY, …) */
  env?: Record<string, string>;
}

/** Deterministic content: byte i of a file is (i * 31 + seed) & 255. */
export function pattern(size: number, seed = 7): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 255;
  return b;
}

export function setupFakeAscp(options: SetupOptions = {}): FakeAscpSetup {
  const dir = tempDir('ascp');
  onTestFinished(() => dir.remove());
  const root = dir.path;
  const downloads = join(root, 'downloads');
  const store = join(root, 'store');
  const stateDir = join(root, 'state');
  const secret = randomBytes(16).toString('hex');
  const title = options.title ?? 'Q3 report';
  const uuid = randomUUID();
  // The store folder keeps a plain name: hostile titles are about the local folder, not the source.
  const sourcePath = `/${uuid}.aspera-package/PKG - package`;
  const pkgDir = join(store, `${uuid}.aspera-package`, 'PKG - package');
  for (const [rel, content] of Object.entries(options.files ?? { 'a.txt': 'hello', 'sub/b.bin': 200_000 })) {
    mkdirSync(join(pkgDir, rel, '..'), { recursive: true });
    writeFileSync(join(pkgDir, rel), typeof content === 'number' ? pattern(content) : content);
  }
  mkdirSync(stateDir, { recursive: true });

  const key = join(root, 'aspera_tokenauth_id_rsa');
  writeFileSync(key, 'dummy key: the fake ascp only checks that it exists\n');
  const env: Record<string, string> = {
    FAKE_FASPEX_SECRET: secret,
    FAKE_ASCP_STORE: store,
    FAKE_ASCP_STATE_DIR: stateDir,
    FAKE_ASCP_RATE_BPS: String(options.rateBps ?? 4_000_000),
    FAKE_ASCP_FAIL: options.fail ?? 'ok',
  };
  if (options.ignoreSignals) env.FAKE_ASCP_IGNORE_SIGNALS = '1';
  if (options.blocked) env.FAKE_ASCP_BLOCKED = options.blocked;
  if (options.wssPort !== undefined) env.FAKE_ASCP_WSS_PORT = String(options.wssPort);
  const wrapper = join(root, 'ascp');
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  writeFileSync(wrapper, `#!/bin/sh\n${Object.entries(env).map(([k, v]) => `export ${k}=${quote(v)}`).join('\n')}\nexec ${quote(process.execPath)} ${quote(FAKE_ASCP)} "$@"\n`);
  chmodSync(wrapper, 0o755);

  const link: PackageLink = {
    kind: 'faspex4-external', url: `https://fx.example.com/aspera/faspex/external_deliveries/77?passcode=pc-${secret.slice(0, 8)}`,
    server: 'fx.example.com', baseUrl: 'https://fx.example.com/aspera/faspex', packageId: '77', passcode: `pc-${secret.slice(0, 8)}`,
  };
  const setup: FakeAscpSetup = {
    root, downloads, store, stateDir, secret, sourcePath, link, tokens: [], resolveCalls: 0, logs: [], lines: [],
    resolver: {
      resolve: async (l): Promise<ResolvedPackage> => {
        setup.resolveCalls++;
        const ttl = options.tokenTtlMs?.(setup.resolveCalls) ?? 3_600_000;
        const token = mintToken({ path: sourcePath, exp: Date.now() + ttl }, secret);
        setup.tokens.push(token);
        return {
          link: l, packageId: l.packageId, title, sender: 'alice@example.com',
          transferSpec: { direction: 'receive', remote_host: '127.0.0.1', remote_user: 'faspex', ssh_port: 33001, fasp_port: 33001, paths: [{ source: sourcePath }], token, resume_policy: 'none', ...options.spec },
        };
      },
    },
    config: undefined as unknown as Config,
    ctx: (over = {}) => ({
      config: setup.config, logger, resolver: setup.resolver, ascp: { path: wrapper, sshKeyPath: key },
      onLog: (line) => void setup.lines.push(line), timing: { connectTimeoutMs: 5_000, sessionStartMs: 10_000, graceMs: 2_000 }, ...over,
    }),
    invocations: () => invocations(stateDir),
    routes: () => routes(stateDir),
  };
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void setup.logs.push(s) } });
  setup.config = loadConfig({ FASPEX_ALLOWED_HOSTS: 'fx.example.com', DOWNLOAD_DIR: downloads, DATA_DIR: join(root, 'data'), ...options.env }, 'download', root);
  if (options.stallSeconds !== undefined) setup.config.downloads.stallSeconds = options.stallSeconds;
  return setup;
}
