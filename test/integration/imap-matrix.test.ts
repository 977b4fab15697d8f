/**
 * The IMAP compatibility matrix (README "IMAP servers"): the real listener against real servers
 * that lack what Dovecot normally offers. Each row runs the same checks: new mail is found (by
 * IDLE, or by polling where there is none), nothing is lost or doubled across a restart of the
 * listener, a mail that arrives while it is down is read when it is back, keywords are set where
 * the server keeps them (and their absence breaks nothing where it does not), and IMAP_MOVE_TO
 * moves every mail (by COPY + \Deleted + EXPUNGE where there is no MOVE).
 */
import { Queue } from 'bullmq';
import { ImapFlow } from 'imapflow';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { KEYWORDS } from '../../src/mail/handled-marks.js';
import type { MailListenerDeps, MailListenerTuning, MailReport } from '../../src/mail/listener.js';
import { QUEUE, type DownloadJobData } from '../../src/queue/queues.js';
import { COURIER_INSTALL_HINT, courierInstalled, startCourier } from '../../src/standins/courier.js';
import { startDovecot } from '../../src/standins/dovecot.js';
import { connectImap, jobId, notification, TEST_BACKOFF, testImap, testListener } from '../fixtures/mail/listener-harness.js';
import { uniqueName, waitFor } from '../support/temp.js';

/** What a row's server is to the test: where to log in, how mail arrives, how it ends. */
interface MatrixServer {
  host: string;
  port: number;
  user: string;
  password: string;
  deliver(message: string): Promise<void>;
  /** end the user's sessions the way the server would (an IDLE dropped by the server) */
  kick?(): Promise<void>;
  stop(): Promise<void>;
}

interface Row {
  name: string;
  start(): Promise<MatrixServer>;
  /** what the server advertises / keeps, as the README matrix says */
  idle: boolean;
  keywords: boolean;
  /** capabilities the server must not advertise (a row that still has them tests nothing) */
  without: string[];
  /** IMAP_MOVE_TO here (Courier's folders live under INBOX.) */
  moveTo?: string;
  /** why the row cannot run here, if it cannot */
  missing?: string;
  /** listener tuning for the row (a short poll interval where there is no IDLE) */
  tuning?: Partial<MailListenerTuning>;
}

const dovecotRow = (name: string, without: string[], more: Partial<Row> = {}): Row => ({
  name,
  idle: !without.includes('IDLE'),
  keywords: true,
  without,
  start: async () => {
    const d = await startDovecot({ withoutCapabilities: without });
    return { host: d.host, port: d.imapPort, user: d.user, password: d.password, deliver: (m) => d.deliver(m), kick: () => d.kick(), stop: () => d.stop() };
  },
  ...more,
});

const ROWS: Row[] = [
  dovecotRow('Dovecot, everything', []),
  // imapflow polls with NOOP every idleRenewMs (capped at 2 minutes) where there is no IDLE
  dovecotRow('Dovecot without IDLE', ['IDLE'], { tuning: { idleRenewMs: 1000 } }),
  dovecotRow('Dovecot without MOVE', ['MOVE']),
  dovecotRow('Dovecot without CONDSTORE/QRESYNC', ['CONDSTORE', 'QRESYNC']),
  courierRow('Courier-IMAP (Debian defaults: IDLE, no MOVE, no CONDSTORE)', true),
  // Exchange Online's case: PERMANENTFLAGS without \*, so progress is in Redis only
  courierRow('Courier-IMAP with IMAP_KEYWORDS=0 (no custom keywords)', false),
];

function courierRow(name: string, keywords: boolean): Row {
  return {
    name,
    idle: true,
    keywords,
    without: ['MOVE', 'CONDSTORE'],
    moveTo: 'INBOX.Handled',
    missing: courierInstalled() ? undefined : `Courier-IMAP is not available here (${COURIER_INSTALL_HINT})`,
    // Courier's IDLE without FAM looks at the maildir every IMAP_IDLE_TIMEOUT seconds
    start: async () => {
      const c = await startCourier({ keywords, idlePollSeconds: 1 });
      return { host: c.host, port: c.imapPort, user: c.user, password: c.password, deliver: (m) => c.deliver(m), kick: () => c.kick(), stop: () => c.stop() };
    },
  };
}

const MOVE_TO = 'Handled';
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  cleanup = [];
});

async function setUp(row: Row, label: string) {
  const server = await row.start();
  cleanup.push(() => server.stop());
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  cleanup.push(async () => redis.disconnect());
  const prefix = uniqueName(label);
  const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: redis, prefix });
  cleanup.push(() => queue.close());
  const imap = testImap(server, { moveTo: row.moveTo ?? MOVE_TO });
  const reports: MailReport[] = [];
  const idle: boolean[] = [];
  const newListener = (more: Partial<MailListenerDeps> = {}) => {
    const listener = testListener({ imap, redis, prefix, queue }, {
      events: { mail: (r) => reports.push(r), connected: (c) => idle.push(c.idle) },
      tuning: { ...TEST_BACKOFF, ...row.tuning },
      ...more,
    });
    cleanup.push(() => listener.stop());
    return listener;
  };
  let adminClient: Promise<ImapFlow> | undefined;
  const admin = () => (adminClient ??= (async () => {
    const client = await connectImap(server);
    cleanup.push(() => client.logout());
    return client;
  })());
  const jobIds = async () => (await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized'])).map((j) => j.id!).sort();
  const waitReports = (n: number, what: string) => waitFor(() => (reports.length >= n ? reports.slice() : undefined), { what, timeoutMs: 30_000 });
  return { server, reports, idle, newListener, admin, jobIds, waitReports };
}

/** Subjects and keywords of the mails in a folder. */
async function folder(client: ImapFlow, path: string): Promise<{ subject: string; flags: string[] }[]> {
  const lock = await client.getMailboxLock(path);
  try {
    // Courier tells a session about mail other sessions added only when asked (NOOP)
    await client.noop();
    const out: { subject: string; flags: string[] }[] = [];
    if ((client.mailbox && client.mailbox.exists) === 0) return out;
    for await (const m of client.fetch('1:*', { envelope: true, flags: true })) out.push({ subject: m.envelope?.subject ?? '', flags: [...(m.flags ?? [])] });
    return out.sort((a, b) => a.subject.localeCompare(b.subject));
  } finally {
    lock.release();
  }
}

describe.each(ROWS)('IMAP matrix: $name', { timeout: 90_000 }, (row) => {
  if (row.missing) console.warn(`imap-matrix: skipping "${row.name}": ${row.missing}`);
  it.skipIf(row.missing)('finds new mail, loses and doubles none across a listener restart, marks or moves every mail', async () => {
    const t = await setUp(row, 'imx');
    const first = t.newListener();
    first.start();
    await waitFor(() => first.status().connected, { what: 'connected', timeoutMs: 30_000 });
    expect(t.idle).toEqual([row.idle]);

    // new mail while connected: found by IDLE, or by the poll where there is none
    await t.server.deliver(notification(1));
    await t.waitReports(1, 'the first mail');
    await first.stop();

    // arrives while the listener is down: read when it is back, the first not read again
    await t.server.deliver(notification(2));
    const second = t.newListener();
    second.start();
    await t.waitReports(2, 'the mail that arrived while the listener was down');
    await waitFor(async () => (await folder(await t.admin(), row.moveTo ?? MOVE_TO)).length === 2, { what: 'both mails moved', timeoutMs: 30_000 });
    await t.server.deliver(notification(3));
    await t.waitReports(3, 'new mail after the restart');

    expect(t.reports.map((r) => [r.messageId?.slice(0, 7), r.outcome])).toEqual([
      ['<pkg-1-', 'queued'],
      ['<pkg-2-', 'queued'],
      ['<pkg-3-', 'queued'],
    ]);
    expect(await t.jobIds()).toEqual([jobId(1), jobId(2), jobId(3)].sort());
    const client = await t.admin();
    for (const capability of row.without) expect(client.capabilities.has(capability), capability).toBe(false);
    const moved = await waitFor(async () => {
      const list = await folder(client, row.moveTo ?? MOVE_TO);
      return list.length === 3 ? list : undefined;
    }, { what: 'three mails in the move-to folder', timeoutMs: 30_000 });
    expect(moved.map((m) => m.subject)).toEqual(['Package 1', 'Package 2', 'Package 3']);
    for (const m of moved) expect(m.flags.includes(KEYWORDS.queued)).toBe(row.keywords);
    expect(await folder(client, 'INBOX')).toEqual([]);
  });

  it.runIf(row.idle && !row.missing)('an IDLE the server drops loses nothing: the listener reconnects and reads what came meanwhile', async () => {
    const t = await setUp(row, 'imx-drop');
    const listener = t.newListener();
    const drops: string[] = [];
    listener.on('disconnected', (d) => drops.push(d.reason));
    listener.start();
    await t.server.deliver(notification(1));
    await t.waitReports(1, 'the first mail');
    await t.server.kick!();
    await waitFor(() => drops.length > 0, { what: 'the listener to see the drop' });
    await t.server.deliver(notification(2));
    await t.waitReports(2, 'the mail delivered after the drop');
    expect(t.reports.map((r) => r.outcome)).toEqual(['queued', 'queued']);
    expect(await t.jobIds()).toEqual([jobId(1), jobId(2)].sort());
  });
});


describe('IMAP matrix: IDLE renewal', () => {
  it('re-issues IDLE every idleRenewMs on the same connection, before a server would drop it', async () => {
    const t = await setUp({ ...ROWS[0]!, tuning: { idleRenewMs: 1000 } }, 'imx-renew');
    const sent: string[] = [];
    const disconnects: string[] = [];
    const capture = (entry: { src?: string; msg?: string }) => {
      if (entry.src === 'c' && entry.msg) sent.push(entry.msg);
    };
    const quiet = () => undefined;
    const listener = t.newListener({
      createClient: (options) => new ImapFlow({ ...options, logger: { debug: capture, info: quiet, warn: quiet, error: quiet } }),
    });
    listener.on('disconnected', (d) => disconnects.push(d.reason));
    listener.start();
    await waitFor(() => sent.filter((c) => / IDLE$/.test(c)).length >= 3, { what: 'three IDLE commands', timeoutMs: 30_000 });
    expect(sent.filter((c) => /^DONE$|DONE/.test(c)).length).toBeGreaterThanOrEqual(2);
    expect(disconnects).toEqual([]);
    // and mail still arrives through the renewed IDLE
    await t.server.deliver(notification(1));
    await t.waitReports(1, 'a mail after the renewals');
  });
});
