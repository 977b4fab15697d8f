/**
 * A throwaway Dovecot (IMAP + LMTP) on free loopback ports, adapted from
 * shared/reference/dovecot-test.sh: rendered config in a short temp dir, `dovecot -F` in the
 * foreground as a process-group leader, readiness = the `* OK` greeting (an open port alone
 * proves nothing: a misconfigured login process accepts and then closes), stop = the whole group.
 * Used by the tests and the benchmarks.
 *
 * Options turn it into the servers the OAuth2 and TLS tests need:
 *  - `oauth`: an OAuth-only server (auth_mechanisms = xoauth2 oauthbearer, the oauth2 passdb)
 *    that asks `introspectionUrl` about every token (test/support/oauth-token-service.ts);
 *    a token's user name is normalised like logins (%Ln), so a@example.com reaches mailbox "a".
 *    Failed logins are slowed by Dovecot's auth penalty per client IP: tests that fail logins
 *    on purpose use a fresh Dovecot.
 *  - `tls`: implicit TLS (imaps) on `imapsPort` with the given certificate and key.
 *  - `withoutCapabilities`: a server that does not advertise these (IDLE, MOVE, CONDSTORE...),
 *    for the compatibility matrix (test/integration/imap-matrix.test.ts). Dovecot's
 *    `imap_capability` replaces the post-login list, so the launcher asks this Dovecot for its
 *    own list first and restarts it with the rest. Dovecot still runs such a command if a client
 *    sends it anyway: what is tested is that our client (imapflow) does without it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../service/redis-server.js';

const execFileAsync = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const TEMPLATE = join(HERE, 'dovecot', 'dovecot.conf.template');
const DOVECOT = ['/usr/sbin/dovecot', '/sbin/dovecot'].find((p) => existsSync(p)) ?? 'dovecot';
const LDA = '/usr/lib/dovecot/dovecot-lda';
const IMAP = '/usr/lib/dovecot/imap';
const DOVEADM = ['/usr/bin/doveadm', '/usr/sbin/doveadm'].find((p) => existsSync(p)) ?? 'doveadm';

export const DOVECOT_INSTALL_HINT = 'apt-get install -y dovecot-imapd dovecot-lmtpd';

export interface Dovecot {
  readonly dir: string;
  readonly host: string;
  readonly imapPort: number;
  /** implicit TLS port, with the `tls` option (else 0) */
  readonly imapsPort: number;
  readonly lmtpPort: number;
  readonly user: string;
  readonly password: string;
  /** deliver like an MTA (dovecot-lda): the mail gets \Recent and triggers IDLE */
  deliver(message: string | Buffer, user?: string): Promise<void>;
  adduser(user: string, password: string): void;
  /** end a user's IMAP sessions as the server would (doveadm kick); resolves once done */
  kick(user?: string): Promise<void>;
  /** stop and start again on the same ports and mail store */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** the maildir of a user's INBOX, for tests that corrupt or inspect it */
  maildir(user?: string): string;
}

export interface DovecotOptions {
  user?: string;
  password?: string;
  oauth?: { introspectionUrl: string };
  tls?: { certFile: string; keyFile: string };
  withoutCapabilities?: readonly string[];
}

/** The Debian dovecot binaries this launcher runs (dovecot-core; IMAP and LMTP come with dovecot-imapd/-lmtpd). */
export function dovecotInstalled(): boolean {
  return existsSync(DOVECOT) && existsSync(LDA);
}

export async function startDovecot(options: DovecotOptions = {}): Promise<Dovecot> {
  if (!dovecotInstalled()) throw new Error(`dovecot is not installed: ${DOVECOT_INSTALL_HINT}`);
  const user = options.user ?? 'test';
  const password = options.password ?? 'secret';
  // unix socket paths are limited to 107 bytes: keep the dir short
  const dir = mkdtempSync('/tmp/dvt-');
  const imapPort = await freePort();
  const lmtpPort = await freePort();
  const imapsPort = options.tls ? await freePort() : 0;
  const root = process.getuid?.() === 0;
  const ids = root ? { iu: 'dovecot', ig: 'dovecot', lu: 'dovenull', mu: 'nobody', mg: 'nogroup' } : currentUserIds();
  mkdirSync(join(dir, 'run'));
  mkdirSync(join(dir, 'state'));
  mkdirSync(join(dir, 'home'));
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}\n`, { mode: 0o644 });
  if (root) {
    chmodSync(dir, 0o711);
    const { uid, gid } = await lookupIds('nobody', 'nogroup');
    chownSync(join(dir, 'home'), uid, gid);
  }
  const conf = readFileSync(TEMPLATE, 'utf8')
    .replaceAll('@DIR@', dir)
    .replaceAll('@IMAP_PORT@', String(imapPort))
    .replaceAll('@LMTP_PORT@', String(lmtpPort))
    .replaceAll('@INTERNAL_USER@', ids.iu)
    .replaceAll('@INTERNAL_GROUP@', ids.ig)
    .replaceAll('@LOGIN_USER@', ids.lu)
    .replaceAll('@MAIL_USER@', ids.mu)
    .replaceAll('@MAIL_GROUP@', ids.mg);
  const confPath = join(dir, 'dovecot.conf');
  writeFileSync(confPath, withTls(withOauth(conf, dir, options.oauth), options.tls, imapsPort));

  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(DOVECOT, ['-F', '-c', confPath], { detached: true, stdio: 'ignore' });
    await waitForGreeting(imapPort, child, dir);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    try {
      process.kill(-c.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 3000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  if (options.withoutCapabilities?.length) {
    const kept = (await postLoginCapabilities(confPath, user)).filter((c) => !options.withoutCapabilities!.includes(c.toUpperCase()));
    await stop();
    appendFileSync(confPath, `\nimap_capability = ${kept.join(' ')}\n`);
    await start();
  }

  return {
    dir,
    host: '127.0.0.1',
    imapPort,
    imapsPort,
    lmtpPort,
    user,
    password,
    async deliver(message, to = user) {
      await new Promise<void>((resolve, reject) => {
        const lda = spawn(LDA, ['-c', confPath, '-d', to, '-f', 'sender@example.com'], { stdio: ['pipe', 'ignore', 'pipe'] });
        let err = '';
        lda.stderr.on('data', (d) => (err += d));
        lda.once('error', reject);
        lda.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`dovecot-lda exited ${code}: ${err}`))));
        lda.stdin.end(message);
      });
    },
    async kick(name = user) {
      await execFileAsync(DOVEADM, ['-c', confPath, 'kick', name]);
    },
    adduser(name, pass) {
      appendFileSync(join(dir, 'passwd'), `${name}:{PLAIN}${pass}\n`);
    },
    async restart() {
      await stop();
      await start();
    },
    async stop() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    maildir(name = user) {
      return join(dir, 'home', name, 'Maildir');
    },
  };
}

/** The template's password login swapped for the oauth2 passdb with token introspection. */
function withOauth(conf: string, dir: string, oauth: DovecotOptions['oauth']): string {
  if (!oauth) return conf;
  writeFileSync(join(dir, 'oauth2.conf.ext'), [
    'introspection_mode = post',
    `introspection_url = ${oauth.introspectionUrl}`,
    'force_introspection = yes',
    'username_attribute = username',
    'username_format = %Ln',
    'active_attribute = active',
    'active_value = true',
    '',
  ].join('\n'));
  const replaced = conf
    .replace('auth_mechanisms = plain login', 'auth_mechanisms = xoauth2 oauthbearer')
    .replace(/passdb \{[^}]*\}/, `passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = ${dir}/oauth2.conf.ext\n}`)
    // without allow_all_users, dovecot-lda finds no user (every passdb is skipped for it)
    .replace(/(userdb \{\s*driver = static\s*args = )/, '$1allow_all_users=yes ');
  if (replaced === conf || !replaced.includes('driver = oauth2') || !replaced.includes('allow_all_users=yes')) throw new Error('the Dovecot template changed: cannot make it OAuth-only');
  return replaced;
}

function withTls(conf: string, tls: DovecotOptions['tls'], imapsPort: number): string {
  if (!tls) return conf;
  const replaced = conf
    .replace('ssl = no', `ssl = yes\nssl_cert = <${tls.certFile}\nssl_key = <${tls.keyFile}`)
    .replace(/inet_listener imaps \{\s*port = 0\s*\}/, `inet_listener imaps {\n    address = 127.0.0.1\n    port = ${imapsPort}\n    ssl = yes\n  }`);
  if (!replaced.includes(`port = ${imapsPort}`) || !replaced.includes('ssl = yes')) throw new Error('the Dovecot template changed: cannot add TLS');
  return replaced;
}

/** What this Dovecot advertises after login, from a pre-authenticated `imap` process. */
async function postLoginCapabilities(confPath: string, user: string): Promise<string[]> {
  // through sh's pipes: Node's stdio pipes are sockets, which `imap` takes for inetd and refuses
  const script = 'printf "a LOGOUT\\r\\n" | "$0" -c "$1" -u "$2" 2>&1 | cat';
  const { stdout } = await execFileAsync('sh', ['-c', script, IMAP, confPath, user]);
  const list = /^\* PREAUTH \[CAPABILITY ([^\]]+)\]/m.exec(stdout)?.[1];
  if (!list) throw new Error(`cannot read Dovecot's capabilities: ${stdout.slice(0, 500)}`);
  return list.split(' ');
}

function currentUserIds() {
  // The account itself, not $USER: a container (docker run --user, buildah run) sets no USER.
  const name = currentUserName();
  return { iu: name, ig: name, lu: name, mu: name, mg: name };
}

function currentUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'nobody'; // a uid with no passwd entry
  }
}

async function lookupIds(user: string, group: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await execFileAsync('id', ['-u', user])).stdout.trim());
  const gid = Number((await execFileAsync('getent', ['group', group])).stdout.split(':')[2]);
  return { uid, gid };
}

async function waitForGreeting(port: number, child: ChildProcess, dir: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const line = await firstLine(port).catch(() => '');
    if (line.startsWith('* OK')) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  const log = existsSync(join(dir, 'dovecot.log')) ? readFileSync(join(dir, 'dovecot.log'), 'utf8').slice(-2000) : '';
  throw new Error(`Dovecot gave no IMAP greeting on 127.0.0.1:${port}\n${log}`);
}

function firstLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let buf = '';
    s.setTimeout(2000, () => {
      s.destroy();
      reject(new Error('timeout'));
    });
    s.once('error', reject);
    s.on('data', (d) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        s.destroy();
        resolve(buf.slice(0, i));
      }
    });
    s.once('close', () => resolve(buf));
  });
}
