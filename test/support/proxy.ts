/**
 * A real forward proxy for the tests: Debian's tinyproxy on a free loopback port, in the
 * foreground, with its log in a temp dir. The log is the record: every CONNECT it was asked for,
 * and every one it refused (ConnectPort rules, domain filter), so a test can count what went
 * through it without trusting the client's own account.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/service/redis-server.js';
import { tempDir, waitFor } from './temp.js';

export const TINYPROXY = '/usr/bin/tinyproxy';

export interface ProxyOptions {
  /** ports CONNECT may reach (tinyproxy ConnectPort); default any */
  allowPorts?: number[];
  /** hosts it refuses (an ERE filter on the domain, matched whole) */
  denyHosts?: string[];
  /** Basic proxy login tinyproxy demands (answers 407 without it) */
  login?: { user: string; password: string };
}

export interface TestProxy {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** host:port of every CONNECT asked for, in order (refused ones included) */
  connects(): string[];
  /** CONNECTs to this port only */
  connectsTo(port: number): number;
  /** plain-http requests it forwarded to this port (absolute-URI requests, no tunnel) */
  forwardedTo(port: number): number;
  /** the log lines where it refused a request */
  refusals(): string[];
  log(): string;
  stop(): Promise<void>;
}

export async function startProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  if (!existsSync(TINYPROXY)) throw new Error('tinyproxy is not installed: apt-get install -y tinyproxy');
  const dir = tempDir('proxy');
  const port = await freePort();
  const logFile = join(dir.path, 'tinyproxy.log');
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 60',
    `LogFile "${logFile}"`,
    'LogLevel Info',
    'MaxClients 100',
    'Allow 127.0.0.1',
    'DisableViaHeader Yes',
    ...(options.allowPorts ?? []).map((p) => `ConnectPort ${p}`),
  ];
  if (options.denyHosts?.length) {
    const filter = join(dir.path, 'filter');
    writeFileSync(filter, options.denyHosts.map((h) => `^${h.replace(/\./g, '\\.')}$`).join('\n') + '\n');
    lines.push(`Filter "${filter}"`, 'FilterType ere', 'FilterDefaultDeny No');
  }
  if (options.login) lines.push(`BasicAuth ${options.login.user} ${options.login.password}`);
  const config = join(dir.path, 'tinyproxy.conf');
  writeFileSync(config, lines.join('\n') + '\n');

  const child: ChildProcess = spawn(TINYPROXY, ['-d', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  try {
    await waitFor(() => log().includes('Accepting connections') || child.exitCode !== null, { what: 'tinyproxy to listen', timeoutMs: 10_000 });
    if (child.exitCode !== null) throw new Error(`tinyproxy exited ${child.exitCode}: ${stderr}${log()}`);
  } catch (e) {
    child.kill('SIGKILL');
    dir.remove();
    throw e;
  }

  const connects = () => [...log().matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]!);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connects,
    connectsTo: (target) => connects().filter((c) => c.endsWith(`:${target}`)).length,
    forwardedTo: (target) => [...log().matchAll(/Request \(file descriptor \d+\): [A-Z]+ http:\/\/[^/\s]+:(\d+)\//g)].filter((m) => Number(m[1]) === target).length,
    refusals: () => log().split('\n').filter((l) => /Refused CONNECT|Proxying refused|authentication/i.test(l)),
    log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      dir.remove();
    },
  };
}
