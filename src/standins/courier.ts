/**
 * A throwaway Courier-IMAP on a free loopback port, for the IMAP compatibility matrix.
 *
 * Courier's `imapd` is the post-login half of the server: started with AUTHENTICATED set, it
 * serves one already logged-in connection on stdin/stdout (its own login half, imaplogin, needs
 * courier-authdaemon's socket at a fixed system path). So a small Node TCP listener plays
 * imaplogin: greeting, CAPABILITY, LOGIN checked against our one user, then one `imapd` per
 * connection with the environment Debian's /etc/courier/imapd gives it, its `* PREAUTH`
 * swallowed and answered as the LOGIN's OK. Everything after login is Courier's own.
 *
 * Debian's courier-imap conflicts with dovecot-imapd (both "Provide/Conflict: imap-server"), so
 * it is not installed: its files are extracted (`apt-get download` + `dpkg -x`, see .ci/run) to
 * COURIER_ROOT; courier-base, courier-authlib and libcourier-unicode4 (no conflict) are installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../service/redis-server.js';

export const COURIER_ROOT = process.env.COURIER_IMAP_ROOT ?? '/var/cache/faspex-ingest/courier-imap-extracted';
const IMAPD = join(COURIER_ROOT, 'usr/bin/imapd');
const MAILDIRMAKE = '/usr/bin/maildirmake';
export const COURIER_INSTALL_HINT =
  'apt-get install -y courier-base courier-authlib, then apt-get download courier-imap=VERSION and dpkg -x it into ' + COURIER_ROOT + ' (as .ci/run does; never apt-get install courier-imap: it removes dovecot-imapd)';

/** Debian's IMAP_CAPABILITY from /etc/courier/imapd: IDLE and UIDPLUS, no MOVE, no CONDSTORE. */
const DEBIAN_CAPABILITY = 'IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE';

export interface CourierOptions {
  user?: string;
  password?: string;
  /** IMAP_KEYWORDS: false is a server that keeps no custom keywords (no `\*` in PERMANENTFLAGS) */
  keywords?: boolean;
  /** IMAP_IDLE_TIMEOUT: without FAM, Courier's IDLE looks at the maildir this often (Debian: 60) */
  idlePollSeconds?: number;
}

export interface Courier {
  readonly dir: string;
  readonly host: string;
  readonly imapPort: number;
  readonly user: string;
  readonly password: string;
  /**
   * deliver as a Maildir MDA does: write in tmp/, rename into new/, with the local newline (a
   * Maildir file holds LF lines; Courier adds the CR when it serves the mail, so a CRLF file
   * would come out with CR CR LF, which no MDA writes)
   */
  deliver(message: string | Buffer): Promise<void>;
  /** end every IMAP session, as a server dropping its connections */
  kick(): Promise<void>;
  stop(): Promise<void>;
}

export function courierInstalled(): boolean {
  return existsSync(IMAPD) && existsSync(MAILDIRMAKE);
}

export async function startCourier(options: CourierOptions = {}): Promise<Courier> {
  if (!courierInstalled()) throw new Error(`Courier-IMAP is not available: ${COURIER_INSTALL_HINT}`);
  const user = options.user ?? 'test';
  const password = options.password ?? 'secret';
  const dir = mkdtempSync('/tmp/cit-');
  const home = join(dir, 'home');
  mkdirSync(home);
  await run(MAILDIRMAKE, [join(home, 'Maildir')]);
  const env = {
    PATH: '/usr/bin:/bin',
    HOME: home,
    AUTHENTICATED: user,
    TCPREMOTEIP: '127.0.0.1',
    IMAP_CAPABILITY: DEBIAN_CAPABILITY,
    IMAP_KEYWORDS: options.keywords === false ? '0' : '1',
    IMAP_ACL: '1',
    IMAP_IDLE_TIMEOUT: String(options.idlePollSeconds ?? 60),
    IMAP_ENHANCEDIDLE: '0',
    IMAP_USELOCKS: '1',
    IMAP_TRASHFOLDERNAME: 'Trash',
    IMAP_MOVE_EXPUNGE_TO_TRASH: '0',
    IMAP_UMASK: '022',
  };
  const children = new Set<ChildProcess>();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    preLogin(socket, user, password, (tag) => {
      const imapd = spawn(IMAPD, ['Maildir'], { cwd: home, env, stdio: ['pipe', 'pipe', 'ignore'] });
      children.add(imapd);
      imapd.once('exit', () => {
        children.delete(imapd);
        socket.end();
      });
      socket.once('close', () => imapd.kill('SIGTERM'));
      let greeting = '';
      const onGreeting = (d: Buffer) => {
        greeting += d.toString('latin1');
        const end = greeting.indexOf('\n');
        if (end < 0) return;
        imapd.stdout.off('data', onGreeting);
        // `* PREAUTH Ready.` becomes the answer to LOGIN; whatever followed it goes on
        socket.write(`${tag} OK LOGIN Ok.\r\n`);
        if (greeting.length > end + 1) socket.write(Buffer.from(greeting.slice(end + 1), 'latin1'));
        imapd.stdout.pipe(socket);
        socket.pipe(imapd.stdin);
      };
      imapd.stdout.on('data', onGreeting);
      imapd.stdin.on('error', () => undefined);
    });
  });
  const imapPort = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(imapPort, '127.0.0.1', () => resolve());
  });
  let seq = 0;
  const endSessions = async () => {
    const gone = [...children].map((c) => new Promise((r) => c.once('exit', r)));
    for (const c of children) c.kill('SIGTERM');
    for (const s of sockets) s.destroy();
    await Promise.all(gone);
  };
  return {
    dir,
    host: '127.0.0.1',
    imapPort,
    user,
    password,
    async deliver(message) {
      const name = `${Date.now()}.M${process.pid}P${++seq}.faspex-ingest-test`;
      const tmp = join(home, 'Maildir', 'tmp', name);
      const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
      writeFileSync(tmp, Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'));
      renameSync(tmp, join(home, 'Maildir', 'new', name));
    },
    kick: endSessions,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        void endSessions();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The login half: what imaplogin does before it execs imapd, for one user and plain LOGIN (no
 * TLS: loopback tests only). Calls `loggedIn` with the LOGIN's tag once the password matched.
 */
function preLogin(socket: Socket, user: string, password: string, loggedIn: (tag: string) => void): void {
  socket.write('* OK [CAPABILITY IMAP4rev1] Courier-IMAP test login ready.\r\n');
  let buffer = '';
  const onData = (d: Buffer) => {
    buffer += d.toString('latin1');
    if (buffer.length > 8192) return socket.destroy();
    for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const [tag = '*', command = '', ...args] = words(line);
      switch (command.toUpperCase()) {
        case 'CAPABILITY':
          socket.write(`* CAPABILITY IMAP4rev1\r\n${tag} OK CAPABILITY completed\r\n`);
          break;
        case 'NOOP':
          socket.write(`${tag} OK NOOP completed\r\n`);
          break;
        case 'LOGOUT':
          socket.end(`* BYE Courier-IMAP test login shutting down\r\n${tag} OK LOGOUT completed\r\n`);
          return;
        case 'LOGIN':
          if (args[0] === user && args[1] === password) {
            socket.off('data', onData);
            socket.pause(); // until imapd is piped in: nothing the client sends may be dropped
            loggedIn(tag);
            return;
          }
          socket.write(`${tag} NO Login failed.\r\n`);
          break;
        default:
          socket.write(`${tag} BAD Command not understood before login.\r\n`);
      }
    }
  };
  socket.on('data', onData);
}

/** IMAP atoms and quoted strings of one command line (no literals: a test client sends none). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
  });
}
