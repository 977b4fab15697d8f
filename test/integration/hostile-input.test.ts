import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/service/redis-server.js';
import { runCli } from '../support/cli.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { faspUrl, packageXml, tokenFor } from '../../src/standins/faspex-sim/documents.js';
import { createFaspexSim, type FaspexSim, type SimFault, type SimPackage } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { completePackages, killLeftoverAscp, logRecords, rssKiB, walk, waitForRunning } from '../support/proof.js';
import { FAKE_ASCP, serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { getTestCa } from '../../src/standins/test-ca.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * Hostile and broken input, table-driven, through ONE long-lived `run` process: every case ends
 * in a recorded, readable reason (the mail's outcome in the log, or the job's reason in
 * `status --json`), while a tripwire (HTTPS and HTTP servers no link may reach) counts
 * connections, the service's RSS is sampled, and the temp tree is walked for files outside
 * DOWNLOAD_DIR. The service must still answer /healthz with 200 at the end.
 */
const MARK = `zz${Math.random().toString(16).slice(2, 8)}`; // appears in every hostile title: found anywhere outside DOWNLOAD_DIR = escape

type Expect =
  | { mail: 'no-link' | 'failed' | 'queued' | 'refused'; why?: RegExp }
  | { job: 'completed' }
  | { job: 'failed'; why: RegExp }
  /** a wait that spends no attempt (issue 22: ascp's disk-full waits for space, it does not fail) */
  | { job: 'delayed'; why: RegExp };

interface Case {
  title?: string;
  evilTitle?: string;
  name: string;
  /** the raw mail (a function of the running fixtures) */
  mail: (f: Fixtures) => string | Buffer;
  expect: Expect;
  /** for job cases: which link's job this is about */
  link?: (f: Fixtures) => string;
  setup?: (f: Fixtures) => void;
}

interface Fixtures {
  sim: FaspexSim;
  pkg: (name: string) => SimPackage;
  trip: { https: string; http: string; port: number; httpPort: number };
  evil: (id: number) => string;
  simPort: number;
}

const CRLF = '\r\n';
const mid = (name: string) => `<case-${name.replace(/[^a-z0-9]+/gi, '-')}@hostile.test>`;
const plain = (name: string, body: string, headers: string[] = []) =>
  [`From: Faspex <faspex@faspex.example.com>`, 'To: ingest@example.com', `Subject: ${name}`, `Message-ID: ${mid(name)}`, ...headers, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', body, ''].join(CRLF);
const notification = (name: string, link: string) => faspex4Notification({ link, title: name, messageId: mid(name) });

/** mail cases whose links must never be fetched: each ends as a mail without a usable link */
const offList = (name: string, link: (f: Fixtures) => string): Case => ({ name, mail: (f) => notification(name, link(f)), expect: { mail: 'no-link' } });
// (a passcode is a secret: the logs mask every later occurrence of its value, so it must not be a common word)
const extPath = `/aspera/faspex/external_deliveries/77?passcode=pc${MARK}x`;

const CASES: Case[] = [
  // ---- malformed MIME and mail-level abuse
  { name: 'not MIME at all', mail: () => Buffer.concat([Buffer.from(`Message-ID: ${mid('not MIME at all')}\r\n\r\n`), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256))]), expect: { mail: 'no-link' } },
  { name: 'headers only', mail: () => `From: a@b.c${CRLF}Message-ID: ${mid('headers only')}${CRLF}Subject: nothing${CRLF}`, expect: { mail: 'no-link' } },
  { name: 'garbage header lines', mail: () => `::::${CRLF}\x01\x02: \xff${CRLF}Message-ID: ${mid('garbage header lines')}${CRLF}Content-Type: ;;;=;${CRLF}${CRLF}hello${CRLF}`, expect: { mail: 'no-link' } },
  {
    name: 'multipart without boundary parameter', expect: { mail: 'no-link' }, // the link sits in a multipart's preamble: no part holds it
    mail: (f) => [`Message-ID: ${mid('multipart without boundary parameter')}`, 'MIME-Version: 1.0', 'Content-Type: multipart/alternative', '', `Download: ${f.pkg('mp-nobound').links.external}`, ''].join(CRLF),
  },
  {
    name: 'boundary that never appears', expect: { mail: 'no-link' }, // the link sits in a multipart's preamble: no part holds it
    mail: (f) => [`Message-ID: ${mid('boundary that never appears')}`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="NEVER"', '', `Download: ${f.pkg('mp-missing').links.external}`, ''].join(CRLF),
  },
  {
    name: 'unterminated multipart', expect: { job: 'completed' }, link: (f) => f.pkg('mp-unterminated').links.external,
    mail: (f) => [`Message-ID: ${mid('unterminated multipart')}`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="B"', '', '--B', 'Content-Type: text/plain', '', `Download: ${f.pkg('mp-unterminated').links.external}`, ''].join(CRLF),
  },
  {
    name: 'broken base64 part', expect: { mail: 'no-link' },
    mail: () => [`Message-ID: ${mid('broken base64 part')}`, 'MIME-Version: 1.0', 'Content-Type: text/plain', 'Content-Transfer-Encoding: base64', '', '!!!!not*base64@@@@ ====== ^^^^', '%%%%', ''].join(CRLF),
  },
  {
    name: 'base64 cut mid-quantum beside a good html part', expect: { job: 'completed' }, link: (f) => f.pkg('b64cut').links.external,
    mail: (f) => [`Message-ID: ${mid('base64 cut mid-quantum beside a good html part')}`, 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="A"', '',
      '--A', 'Content-Type: text/plain', 'Content-Transfer-Encoding: base64', '', Buffer.from('Download: https://x').toString('base64').slice(0, 13), '',
      '--A', 'Content-Type: text/html', '', `<a href="${f.pkg('b64cut').links.external}">Download</a>`, '--A--', ''].join(CRLF),
  },
  {
    name: 'broken quoted-printable', expect: { mail: 'no-link' },
    mail: () => [`Message-ID: ${mid('broken quoted-printable')}`, 'MIME-Version: 1.0', 'Content-Type: text/plain', 'Content-Transfer-Encoding: quoted-printable', '', '=ZZ=Q=\r\n=3', ''].join(CRLF),
  },
  { name: 'huge subject header', mail: () => plain('huge subject header', 'no link', [`X-Pad: ${'A'.repeat(400_000)}`]), expect: { mail: 'no-link' } },
  { name: 'ten thousand header lines', mail: () => plain('ten thousand header lines', 'no link', Array.from({ length: 10_000 }, (_, i) => `X-H${i}: ${'v'.repeat(40)}`)), expect: { mail: 'no-link' } },
  { name: 'one header folded a thousand times', mail: () => plain('one header folded a thousand times', 'no link', [`X-Fold: a${Array.from({ length: 1000 }, () => `${CRLF} b`).join('')}`]), expect: { mail: 'no-link' } },
  {
    name: 'multipart nested 60 deep', expect: { mail: 'no-link' },
    mail: () => {
      let body = 'deep text, no link';
      for (let i = 0; i < 60; i++) body = [`Content-Type: multipart/mixed; boundary="n${i}"`, '', `--n${i}`, body, `--n${i}--`, ''].join(CRLF);
      return `Message-ID: ${mid('multipart nested 60 deep')}${CRLF}MIME-Version: 1.0${CRLF}${body}`;
    },
  },
  {
    name: 'attached messages nested 20 deep', expect: { mail: 'no-link' },
    mail: (f) => {
      let inner = plain('inner', `Download: https://${f.trip.https}${extPath}`);
      for (let i = 0; i < 20; i++) inner = [`Message-ID: <n${i}@x>`, 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="m${i}"`, '', `--m${i}`, 'Content-Type: message/rfc822', 'Content-Disposition: attachment', '', inner, `--m${i}--`, ''].join(CRLF);
      return inner.replace('<n19@x>', mid('attached messages nested 20 deep'));
    },
  },
  { name: 'NUL bytes in the body', mail: () => plain('NUL bytes in the body', `a\0b\0c ${'\0'.repeat(1000)}`), expect: { mail: 'no-link' } },
  { name: 'unknown charset', mail: () => plain('unknown charset', 'text').replace('charset=utf-8', 'charset=x-no-such-charset'), expect: { mail: 'no-link' } },
  { name: 'UTF-7 body', mail: () => plain('UTF-7 body', '+AGgAdAB0AHAAcw-://').replace('charset=utf-8', 'charset=utf-7'), expect: { mail: 'no-link' } },
  {
    name: '20 MB attachment beside a good link', expect: { job: 'completed' }, link: (f) => f.pkg('big-attachment').links.external,
    mail: (f) => {
      const b64 = Buffer.alloc(20 * 1024 * 1024, 7).toString('base64').replace(/.{76}/g, `$&${CRLF}`);
      return [`Message-ID: ${mid('20 MB attachment beside a good link')}`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="BIG"', '',
        '--BIG', 'Content-Type: text/plain', '', `Download: ${f.pkg('big-attachment').links.external}`, '',
        '--BIG', 'Content-Type: application/octet-stream; name="blob.bin"', 'Content-Disposition: attachment; filename="blob.bin"', 'Content-Transfer-Encoding: base64', '', b64, '--BIG--', ''].join(CRLF);
    },
  },
  { name: 'mail bomb: one link 5000 times', mail: (f) => plain('mail bomb: one link 5000 times', Array.from({ length: 5000 }, () => f.pkg('bomb-same').links.external).join('\n')), link: (f) => f.pkg('bomb-same').links.external, expect: { job: 'completed' } },
  { name: 'mail bomb: 200 distinct packages on an allowed host', mail: (f) => plain('mail bomb: 200 distinct packages on an allowed host', Array.from({ length: 200 }, (_, i) => f.pkg('bomb-same').links.external.replace(/external_deliveries\/\d+/, `external_deliveries/${900000 + i}`)).join('\n')), expect: { mail: 'refused', why: /200 package links in one mail, more than MAIL_MAX_LINKS=50/ } },
  { name: 'mail bomb: 3000 off-list links', mail: (f) => plain('mail bomb: 3000 off-list links', Array.from({ length: 3000 }, (_, i) => `https://${f.trip.https}/aspera/faspex/external_deliveries/${i}?passcode=p${i}`).join('\n')), expect: { mail: 'no-link' } },
  { name: 'mail bomb: 3000 links to lookalike hosts', mail: () => plain('mail bomb: 3000 links to lookalike hosts', Array.from({ length: 3000 }, (_, i) => `https://faspex${i}.evil.example/aspera/faspex/received/${i}`).join('\n')), expect: { mail: 'no-link' } },

  // ---- links to hosts outside the allowlist and to IP literals: never connected to
  offList('off-list domain', () => `https://faspex.evil.example${extPath}`),
  offList('tripwire https', (f) => `https://${f.trip.https}${extPath}`),
  offList('tripwire plain http', (f) => `http://${f.trip.http}${extPath}`),
  offList('allowlisted host over http', (f) => `http://127.0.0.1:${f.simPort}${extPath}`),
  offList('localhost name', (f) => `https://localhost:${f.trip.port}${extPath}`),
  offList('short loopback 127.1', (f) => `https://127.1:${f.trip.port}${extPath}`),
  offList('decimal loopback', (f) => `https://2130706433:${f.trip.port}${extPath}`),
  offList('hex loopback', (f) => `https://0x7f000001:${f.trip.port}${extPath}`),
  offList('IPv6 loopback', (f) => `https://[::1]:${f.trip.port}${extPath}`),
  offList('IPv4-mapped IPv6 loopback', (f) => `https://[::ffff:127.0.0.1]:${f.trip.port}${extPath}`),
  offList('private 10/8', () => `https://10.0.0.1${extPath}`),
  offList('private 192.168/16', () => `https://192.168.1.1${extPath}`),
  offList('link-local metadata', () => `https://169.254.169.254${extPath}`),
  offList('userinfo trick', (f) => `https://127.0.0.1:${f.simPort}@127.0.0.1:${f.trip.port}${extPath}`),
  offList('backslash trick', (f) => `https://127.0.0.1:${f.trip.port}\\@127.0.0.1:${f.simPort}${extPath}`),
  offList('allowlisted name as a subdomain', (f) => `https://127.0.0.1.${f.trip.port}.nip.io${extPath}`),
  offList('Safe Links wrapper around the tripwire', (f) => `https://nam01.safelinks.protection.outlook.com/?url=${encodeURIComponent(`https://${f.trip.https}${extPath}`)}&data=x&reserved=0`),
  {
    name: 'Aspera header to the tripwire', expect: { mail: 'no-link' },
    mail: (f) => plain('Aspera header to the tripwire', 'see header', [`X-Aspera-Filepkg-Location: https://${f.trip.https}/aspera/faspex/received/78`]),
  },

  // ---- the Faspex server misbehaves (simulator faults)
  ...(
    [
      ['redirect to the tripwire', (f) => ({ kind: 'redirect', to: `https://${f.trip.https}/steal` }), /redirect/i],
      ['307 redirect to plain http', (f) => ({ kind: 'redirect', to: `http://${f.trip.http}/steal`, status: 307 }), /redirect/i],
      ['redirect to the login page', () => ({ kind: 'redirect', to: 'login' }), /redirect|log ?in|expired/i],
      ['hanging server', () => ({ kind: 'slow', delayMs: 20_000 }), /time|respond/i],
      ['server hanging mid-body', () => ({ kind: 'slow', delayMs: 20_000, phase: 'body' }), /time|respond/i],
      ['connection reset', () => ({ kind: 'reset' }), /connect|network|reset|socket|closed/i],
      ['XML entity bomb', () => ({ kind: 'xml-bomb' }), /entit|DOCTYPE|DTD|XML|answer/i],
      ['10 MB XML body', () => ({ kind: 'huge' }), /large|MB|bytes|limit/i],
      ['10 MB XML body with a declared length', () => ({ kind: 'huge', declareLength: true }), /large|MB|bytes|limit/i],
      ['HTTP 500', () => ({ kind: 'status', status: 500 }), /500|server/i],
      ['HTTP 404', () => ({ kind: 'status', status: 404 }), /404|not found|exist/i],
      ['expired link', () => ({ kind: 'expired' }), /expired|passcode|log ?in/i],
      ['deleted package', () => ({ kind: 'no-link' }), /deleted|no.*link|transfer/i],
      ['expired token', () => ({ kind: 'expired-token' }), /token/i],
    ] as Array<[string, (f: Fixtures) => SimFault, RegExp]>
  ).map(([name, fault, why]): Case => ({
    name,
    setup: (f) => f.sim.fault(f.pkg(name), fault(f)),
    mail: (f) => notification(name, f.pkg(name).links.external),
    link: (f) => f.pkg(name).links.external,
    expect: { job: 'failed', why },
  })),

  // ---- ascp misbehaves (the wrapper picks the fake's scenario from the package title)
  ...(
    [
      ['ascp-garbage', /management|protocol|frame|ascp/i],
      ['ascp-silent', /session|connect|port|ascp/i],
      ['ascp-stall', /progress|stall/i],
    ] as Array<[string, RegExp]>
  ).map(([name, why]): Case => ({ name, mail: (f) => notification(name, f.pkg(name).links.external), link: (f) => f.pkg(name).links.external, expect: { job: 'failed', why } })),
  // ascp says the disk is full (code 25): the job waits for space without spending an attempt
  { name: 'ascp-diskfull', mail: (f) => notification('ascp-diskfull', f.pkg('ascp-diskfull').links.external), link: (f) => f.pkg('ascp-diskfull').links.external, expect: { job: 'delayed', why: /disk/i } },

  // ---- hostile titles and paths: from the simulator (no "/" possible there) and from an evil Faspex (anything)
  ...[`.. ${MARK} ..`, `..${MARK}\u0001\u001b[31m\u0007`, `${MARK}\u202e\u200bgpj.exe`, `-${MARK} --overwrite=always`].map((title, i): Case => ({
    name: `sim title ${i}`,
    setup: (f) => void f.pkg(`sim title ${i}`),
    mail: (f) => notification(`sim title ${i}`, f.pkg(`sim title ${i}`).links.external),
    link: (f) => f.pkg(`sim title ${i}`).links.external,
    expect: { job: 'completed' },
    title,
  })),
  ...(
    [
      [9101, `../../../../../../tmp/${MARK}-up`, { job: 'completed' }],
      [9102, `/tmp/${MARK}-absolute`, { job: 'completed' }],
      [9103, `..`, { job: 'completed' }],
      [9104, `${MARK}&#x1;&#x1b;control`, { job: 'completed' }], // accepted by the XML reader; the folder name drops them
      [9105, `${MARK} NUL &#0; inside`, { job: 'completed' }],
      [9106, 'path-dotdot', { job: 'failed', why: /./ }],
      [9107, 'path-dash', { job: 'failed', why: /port/i }], // a dash glued to the port: refused as a link
      [9108, 'path-nul', { job: 'failed', why: /NUL|invalid|path/i }],
      [9109, 'path-absolute-elsewhere', { job: 'failed', why: /./ }],
    ] as Array<[number, string, Expect]>
  ).map(([id, title, expect]): Case => ({ name: `evil ${id}`, mail: (f) => notification(`evil ${id}`, f.evil(id)), link: (f) => f.evil(id), expect, evilTitle: title })),
] as Array<Case & { title?: string; evilTitle?: string }>;

describe('hostile and broken input', () => {
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let service: ServiceProcess;
  let env: Record<string, string>;
  let dashboardPort: number;
  const servers: Server[] = [];
  const tripConnections = { https: 0, http: 0 };
  const dir = tempDir('hostile');
  const packages = new Map<string, SimPackage>();
  const rss: number[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let evilPort = 0;
  let fx: Fixtures;

  const listen = async (server: Server, count: (s: Socket) => void) => {
    server.on('connection', count);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };

  beforeAll(async () => {
    [dovecot, sim] = await Promise.all([startDovecot(), createFaspexSim()]);
    const ca = await getTestCa();
    // the tripwire: nothing may ever connect to it
    const tripHttps = await listen(createHttpsServer({ key: ca.serverKeyPem, cert: ca.serverCertPem }, (_q, s) => s.end('tripwire')), () => tripConnections.https++);
    const tripHttp = await listen(createHttpServer((_q, s) => s.end('tripwire')), () => tripConnections.http++);
    // an allowlisted but compromised Faspex: any title, any FASP path, valid tokens for the fake ascp
    const evilPkgs = new Map<number, { title: string; pkg: SimPackage }>();
    evilPort = await listen(createHttpsServer({ key: ca.serverKeyPem, cert: ca.serverCertPem }, (req, res) => {
      const id = Number(/external_deliveries\/(\d+)/.exec(req.url ?? '')?.[1]);
      const entry = evilPkgs.get(id);
      if (!entry) return res.writeHead(404).end();
      const { title, pkg } = entry;
      const paths: Record<string, string> = {
        'path-dotdot': `${pkg.sourcePath}/../../..`,
        'path-dash': `-${pkg.sourcePath}`,
        'path-nul': `${pkg.sourcePath}%00x`,
        'path-absolute-elsewhere': '/etc',
      };
      const source = paths[title];
      let xml = packageXml({ ...pkg, title: source ? `${MARK} ${title}` : '@@TITLE@@', fileLinks: false }, sim.fasp, { token: (p) => tokenFor(source ?? p, sim.tokenSecret, 3_600_000) });
      xml = xml.replace('@@TITLE@@', title.replace(/&(?!#)/g, '&amp;').replace(/</g, '&lt;'));
      if (source) {
        const good = faspUrl(pkg, sim.fasp).split('?')[0]!;
        xml = xml.replace(good.replace(/&/g, '&amp;'), `faspe://${sim.fasp.user}@${sim.fasp.host}:${sim.fasp.sshPort}${source.split('/').map((s) => (s.includes('%') ? s : encodeURIComponent(s))).join('/')}`);
      }
      res.writeHead(200, { 'content-type': 'application/xml; charset=utf-8' }).end(xml);
    }), () => undefined);

    const bin = join(dir.path, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'ascp'), [
      '#!/bin/sh',
      '# picks the fake ascp scenario from the package title in the source path',
      'case "$*" in',
      '  *ascp-garbage*) export FAKE_ASCP_FAIL=garbage ;;',
      '  *ascp-silent*) export FAKE_ASCP_FAIL=no-mgmt ;;',
      '  *ascp-diskfull*) export FAKE_ASCP_FAIL=code:25@30% ;;',
      '  *ascp-stall*) export FAKE_ASCP_FAIL=stall@30% ;;',
      '  *) export FAKE_ASCP_FAIL=ok ;;',
      'esac',
      `exec "${process.execPath}" "${FAKE_ASCP}" "$@"`,
      '',
    ].join('\n'));
    chmodSync(join(bin, 'ascp'), 0o755);

    const pkg = (name: string) => {
      let p = packages.get(name);
      if (!p) {
        const c = CASES.find((k) => k.name === name);
        p = sim.addPackage({ title: c?.title ?? name, files: { 'payload.bin': name.startsWith('ascp-') ? 400_000 : 20_000 } });
        packages.set(name, p);
      }
      return p;
    };
    fx = { sim, pkg, trip: { https: `127.0.0.1:${tripHttps}`, http: `127.0.0.1:${tripHttp}`, port: tripHttps, httpPort: tripHttp }, evil: (id) => `https://127.0.0.1:${evilPort}/aspera/faspex/external_deliveries/${id}?passcode=evil${id}secret`, simPort: sim.port };
    for (const c of CASES) {
      const evilTitle = (c as { evilTitle?: string }).evilTitle;
      if (evilTitle !== undefined) evilPkgs.set(Number(c.name.split(' ')[1]), { title: evilTitle, pkg: pkg(`evil-src-${c.name}`) });
    }

    dashboardPort = await freePort();
    env = serviceEnv({
      redisUrl: inject('redisUrl'), prefix: uniqueName('hostile'), dovecot, sim, dir: dir.path, dashboardPort,
      extra: {
        FASPEX_ALLOWED_HOSTS: `${sim.allowEntry}, 127.0.0.1:${evilPort}`,
        ASCP_PATH: join(bin, 'ascp'),
        FAKE_ASCP_RATE_BPS: '200000',
        FASPEX_TIMEOUT_SECONDS: '2',
        DOWNLOAD_STALL_SECONDS: '5',
        DOWNLOAD_ATTEMPTS: '2',
        WORKER_CONCURRENCY: '6',
      },
    });
    service = startServiceProcess(['run'], env, dir.path);
    await waitForRunning(service);
    sampler = setInterval(() => {
      const kb = rssKiB(service.child.pid!);
      if (kb !== undefined) rss.push(kb);
    }, 100);
  });

  afterAll(async () => {
    clearInterval(sampler);
    await service?.stop('SIGKILL');
    if (env) killLeftoverAscp(env.FAKE_ASCP_STATE_DIR!);
    await Promise.all([dovecot?.stop(), sim?.close(), ...servers.map((s) => new Promise((r) => s.close(r)))]);
    dir.remove();
  });

  it(`has at least 50 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it('ends every case in a recorded, readable reason; nothing reaches the tripwire or escapes DOWNLOAD_DIR; memory stays bounded', async () => {
    const started = Date.now();
    for (const c of CASES) c.setup?.(fx);
    for (const c of CASES) await dovecot.deliver(c.mail(fx));

    type Outcome = { state: string; reason: string | null; waitingFor?: string | null } | undefined;
    const mailOutcome = (c: Case) => logRecords(service.output()).find((r) => r.messageId === mid(c.name) && typeof r.msg === 'string' && /^mail \d+: /.test(r.msg));
    const jobOf = (jobs: Array<{ link: string | null; state: string; reason: string | null; waitingFor?: string | null }>, link: string): Outcome => {
      const u = new URL(link);
      return jobs.find((j) => j.link !== null && new URL(j.link).host === u.host && new URL(j.link).pathname === u.pathname);
    };
    const settled = (c: Case, jobs: Parameters<typeof jobOf>[0]) => {
      if ('mail' in c.expect) return mailOutcome(c) !== undefined;
      const j = jobOf(jobs, c.link!(fx));
      if (c.expect.job === 'delayed') return j !== undefined && j.state === 'delayed' && c.expect.why.test(j.waitingFor ?? '');
      return j !== undefined && (j.state === 'completed' || j.state === 'failed');
    };
    let jobs: Parameters<typeof jobOf>[0] = [];
    await waitFor(async () => {
      const s = await runCli(['status', '--json', '-n', '1000'], { env, cwd: dir.path });
      if (s.code !== 0) return false;
      jobs = JSON.parse(s.stdout).jobs;
      return CASES.every((c) => settled(c, jobs));
    }, { what: 'every case to settle', timeoutMs: 100_000, intervalMs: 500 }).catch((e: Error) => {
      const unsettled = CASES.filter((c) => !settled(c, jobs));
      const mails = logRecords(service.output()).filter((r) => typeof r.msg === 'string' && /^mail \d+: /.test(r.msg)).map((r) => `${String(r.msg)} ${String(r.messageId)} ${JSON.stringify(r.warnings)}`);
      throw new Error(`${e.message}; unsettled: ${unsettled.map((c) => c.name).join(', ')}\n${mails.slice(-80).join('\n')}`);
    });

    const table: string[] = [];
    const problems: string[] = [];
    for (const c of CASES) {
      if ('mail' in c.expect) {
        const r = mailOutcome(c)!;
        const outcome = String(r.outcome);
        table.push(`${c.name.padEnd(45)} mail ${outcome}${r.reason ? `: ${String(r.reason)}` : ''}${Array.isArray(r.warnings) && r.warnings.length ? ` [${String(r.warnings[0]).slice(0, 100)}]` : ''}`);
        if (outcome !== c.expect.mail) problems.push(`${c.name}: mail ${outcome}, expected ${c.expect.mail}`);
        if (outcome === 'failed' && !r.reason) problems.push(`${c.name}: failed without a reason`);
      } else {
        const j = jobOf(jobs, c.link!(fx))!;
        table.push(`${c.name.padEnd(45)} job ${j.state}${j.reason ? `: ${j.reason}` : ''}`);
        if (j.state !== c.expect.job) problems.push(`${c.name}: job ${j.state} (${j.reason}), expected ${c.expect.job}`);
        else if (c.expect.job === 'failed' && !c.expect.why.test(j.reason ?? '')) problems.push(`${c.name}: reason "${j.reason}" does not match ${c.expect.why}`);
        if (j.state === 'failed' && !(j.reason && j.reason.length > 10)) problems.push(`${c.name}: no readable reason`);
      }
    }
    console.info(`hostile input: ${CASES.length} cases settled in ${((Date.now() - started) / 1000).toFixed(1)} s; RSS max ${Math.max(...rss) >> 10} MiB over ${rss.length} samples\n${table.join('\n')}`);
    expect(problems).toEqual([]);

    // no request reached a host outside the allowlist
    expect(tripConnections).toEqual({ https: 0, http: 0 });
    // nothing outside DOWNLOAD_DIR carries a hostile title, and the only things outside it are the service's own
    const downloads = env.DOWNLOAD_DIR!;
    const outside = walk(dir.path).filter((p) => !p.startsWith(`${downloads}/`) && p !== downloads);
    expect(outside.filter((p) => p.includes(MARK))).toEqual([]);
    const allowedOutside = new Set(['bin', 'data', 'downloads', 'ascp-state', 'aspera_tokenauth_id_rsa']);
    expect(outside.map((p) => relative(dir.path, p).split('/')[0]).filter((top) => !allowedOutside.has(top!))).toEqual([]);
    expect(readdirSync('/tmp').filter((n) => n.includes(MARK))).toEqual([]);
    expect(readdirSync(dirname(dir.path)).filter((n) => n.includes(MARK))).toEqual([]);
    // every completed package is a direct child of DOWNLOAD_DIR
    for (const p of completePackages(downloads)) {
      expect(dirname(p.folder)).toBe(downloads);
      // eslint-disable-next-line no-control-regex
      expect(relative(downloads, p.folder)).not.toMatch(/[\u0000-\u001f\u007f\u202e\u200b]|^[-.]|\.\./);
    }
    const hostileFolders = readdirSync(downloads).filter((n) => n.includes(MARK));
    expect(hostileFolders.length).toBeGreaterThanOrEqual(8);
    expect(existsSync(join(downloads, '..', 'payload.bin'))).toBe(false);

    // memory: a generous bound for a node process that was sent a 20 MB mail and 10 MB bodies
    expect(Math.max(...rss)).toBeLessThan(400 * 1024);
    // still healthy, still the same process
    expect(service.child.exitCode).toBeNull();
    const health = await fetch(`http://127.0.0.1:${dashboardPort}/healthz`);
    expect(health.status).toBe(200);
  }, 150_000);
});
