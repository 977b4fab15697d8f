import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mailboxKey } from '../../src/mail/mailbox-state.js';
import { runCli } from '../support/cli.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim, type SimPackage } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { completePackages, invocations, killLeftoverAscp, logRecords } from '../support/proof.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * Two inboxes on one Dovecot (two users), each watched by two `listen` processes at a time, three
 * `work` processes; everything real processes. The active listener is SIGKILLed mid-backlog
 * (right after queuing, before marking: a failpoint), frozen with SIGSTOP mid-chunk (read, not yet
 * queued) until a standby has taken over and moved on, then woken, and finally SIGKILLed from
 * outside. Every package must complete exactly once in its inbox's folder, no mail may be lost,
 * none queued twice, and the woken listener must write nothing.
 */
const INBOXES = { a: { user: 'test', folder: 'a' }, b: { user: 'studio', folder: 'b' } } as const;
type InboxId = keyof typeof INBOXES;

describe('standby listeners for two inboxes', () => {
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let redis: Redis;
  let listenEnv: Record<string, string>;
  let workEnv: Record<string, string>;
  const dir = tempDir('standby');
  const prefix = uniqueName('standby');
  const procs: ServiceProcess[] = [];
  const sent: Array<{ inbox: InboxId; pkg: SimPackage }> = [];

  beforeAll(async () => {
    [dovecot, sim] = await Promise.all([startDovecot(), createFaspexSim()]);
    dovecot.adduser('studio', 'studio-pass-77');
    redis = new Redis(inject('redisUrl'));
    const base = serviceEnv({ redisUrl: inject('redisUrl'), prefix, dovecot, sim, dir: dir.path, extra: { FAKE_ASCP_RATE_BPS: '2000000', WORKER_CONCURRENCY: '2' } });
    workEnv = base;
    const file = join(dir.path, 'mailboxes.json');
    writeFileSync(join(dir.path, 'b.pass'), 'studio-pass-77\n', { mode: 0o600 });
    const mailbox = (id: InboxId, auth: Record<string, string>) => ({ id, host: dovecot.host, port: dovecot.imapPort, secure: false, user: INBOXES[id].user, auth, downloadFolder: INBOXES[id].folder });
    writeFileSync(file, JSON.stringify({ mailboxes: [mailbox('a', { passwordEnv: 'INBOX_A_PASSWORD' }), mailbox('b', { passwordFile: 'b.pass' })] }, null, 2));
    listenEnv = Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('IMAP_')));
    Object.assign(listenEnv, { MAILBOXES_FILE: file, INBOX_A_PASSWORD: dovecot.password, LISTENER_LEASE_SECONDS: '3' });
    mkdirSync(listenEnv.DOWNLOAD_DIR!, { recursive: true });
  });

  afterAll(async () => {
    for (const p of procs) {
      try {
        process.kill(p.child.pid!, 'SIGCONT');
      } catch {
        /* gone */
      }
      await p.stop('SIGKILL');
    }
    killLeftoverAscp(workEnv.FAKE_ASCP_STATE_DIR!);
    await redis?.quit();
    await Promise.all([dovecot?.stop(), sim?.close()]);
    dir.remove();
  });

  const listen = (failpoints?: string) => {
    const p = startServiceProcess(['listen'], failpoints ? { ...listenEnv, FASPEX_INGEST_FAILPOINTS: failpoints } : listenEnv, dir.path);
    procs.push(p);
    return p;
  };
  const records = (p: ServiceProcess, from = 0) => logRecords(p.output().slice(from));
  const said = (p: ServiceProcess, msg: string | RegExp, inbox: InboxId, from = 0) =>
    records(p, from).find((r) => r.inbox === inbox && (typeof msg === 'string' ? r.msg === msg : msg.test(String(r.msg))));
  const saidForBoth = (p: ServiceProcess, msg: string | RegExp, from = 0) => waitFor(() => said(p, msg, 'a', from) && said(p, msg, 'b', from), { what: `${msg} for both inboxes`, timeoutMs: 30_000 });
  const mailRead = /^mail \d+: /;
  const deliver = async (inbox: InboxId, n: number) => {
    for (let i = 0; i < n; i++) {
      const title = `${inbox}-${sent.length}`;
      const pkg = sim.addPackage({ title, files: { 'reel.bin': 40_000 + sent.length } });
      sent.push({ inbox, pkg });
      await dovecot.deliver(faspex4Notification({ link: pkg.links.external, title, messageId: `<${title}@faspex.example.com>` }), INBOXES[inbox].user);
    }
  };
  const complete = (inbox: InboxId) => completePackages(join(listenEnv.DOWNLOAD_DIR!, INBOXES[inbox].folder));
  const allComplete = () => waitFor(() => complete('a').length + complete('b').length >= sent.length, { what: `${sent.length} packages complete`, timeoutMs: 60_000 });
  const progress = async (inbox: InboxId) => redis.hgetall(mailboxKey(prefix, INBOXES[inbox].user, dovecot.host, 'INBOX'));
  const stateOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
  const at = (r: Record<string, unknown> | undefined) => Date.parse(String(r?.time));

  it('hands each inbox over on SIGKILL and SIGSTOP: every package once, no mail lost, the woken listener writes nothing', async () => {
    const takeovers: string[] = [];

    // 1. L1 reads both inboxes, L2 waits; L1 dies right after queuing its first mail, before marking it.
    const l1 = listen('listener.after-enqueue@1');
    await saidForBoth(l1, 'watching mailbox');
    const l2 = listen();
    await saidForBoth(l2, 'standby: another listener reads this inbox');
    for (let i = 0; i < 3; i++) procs.push(startServiceProcess(['work'], workEnv, dir.path));
    await Promise.all([deliver('a', 4), deliver('b', 4)]);
    expect(await l1.exited).toBe('SIGKILL');
    const l1Died = Date.now();
    expect(l1.output()).toContain('failpoint listener.after-enqueue (hit 1): SIGKILL');
    await saidForBoth(l2, mailRead);
    for (const inbox of ['a', 'b'] as const) takeovers.push(`SIGKILL (failpoint) → standby reads mail, inbox ${inbox}: ${((at(said(l2, mailRead, inbox)) - l1Died) / 1000).toFixed(1)} s`);
    await allComplete();

    // 2. L3 becomes the reader by a graceful handover (L2 gives the leases up), L4 waits. L3 freezes
    //    mid-chunk: mail read, jobs not yet queued. L4 takes over and queues that mail itself.
    const l3 = listen('listener.pause-before-enqueue@1');
    await saidForBoth(l3, 'standby: another listener reads this inbox');
    expect(await l2.stop('SIGTERM')).toBe(0);
    await saidForBoth(l3, 'watching mailbox');
    const l4 = listen();
    await saidForBoth(l4, 'standby: another listener reads this inbox');
    await deliver('a', 3);
    await waitFor(() => l3.output().includes('failpoint listener.pause-before-enqueue (hit 1): SIGSTOP') && stateOf(l3.child.pid!) === 'T', { what: 'L3 frozen mid-chunk' });
    const frozenAt = Date.now();
    await waitFor(() => said(l4, mailRead, 'a'), { what: 'L4 to read the mail L3 froze on', timeoutMs: 30_000 });
    takeovers.push(`SIGSTOP mid-chunk → standby reads mail, inbox a: ${((at(said(l4, mailRead, 'a')) - frozenAt) / 1000).toFixed(1)} s`);
    await allComplete();
    const before = { a: await progress('a'), b: await progress('b') };
    expect(before.a).toMatchObject({ lastUid: '7' });
    const woke = l3.output().length;
    process.kill(l3.child.pid!, 'SIGCONT');
    // It notices on its own clock, before asking Redis, and goes back to waiting.
    await saidForBoth(l3, 'listener lease lost: stopping IMAP work for this inbox', woke);
    await saidForBoth(l3, 'standby: another listener reads this inbox', woke);
    expect(records(l3, woke).filter((r) => mailRead.test(String(r.msg)))).toEqual([]);
    expect({ a: await progress('a'), b: await progress('b') }).toEqual(before);

    // 3. SIGKILL of the reader from outside; the woken L3 is a healthy standby and takes over.
    const fromHere = l3.output().length;
    l4.child.kill('SIGKILL');
    expect(await l4.exited).toBe('SIGKILL');
    const l4Died = Date.now();
    await deliver('b', 2);
    await waitFor(() => said(l3, mailRead, 'b', fromHere), { what: 'L3 to read inbox b again', timeoutMs: 30_000 });
    takeovers.push(`SIGKILL → standby reads mail, inbox b: ${((at(said(l3, mailRead, 'b', fromHere)) - l4Died) / 1000).toFixed(1)} s`);
    await allComplete();

    // Exactly once: one folder and manifest per package, in its inbox's folder, one ascp run each.
    const got = { a: complete('a'), b: complete('b') };
    for (const inbox of ['a', 'b'] as const) {
      const expected = sent.filter((s) => s.inbox === inbox).map((s) => s.pkg.title).sort();
      expect(got[inbox].map((c) => c.manifest.title).sort()).toEqual(expected);
    }
    expect(readdirSync(listenEnv.DOWNLOAD_DIR!).sort()).toEqual(['a', 'b']);
    const runs = invocations(workEnv.FAKE_ASCP_STATE_DIR!);
    for (const { pkg } of sent) expect(runs.filter((r) => r.argv.some((a) => a.includes(pkg.uuid))), pkg.title).toHaveLength(1);
    // No mail lost: each inbox's progress is past its last mail, and every mail was read and queued
    // by a listener that lived to report it. None queued twice: one job per package in the queue, and
    // the jobs listeners reported new never exceed the packages (L1 died before reporting its own).
    expect(await progress('a')).toMatchObject({ lastUid: '7' });
    expect(await progress('b')).toMatchObject({ lastUid: '6' });
    const reads = procs.flatMap((p) => records(p)).filter((r) => mailRead.test(String(r.msg)));
    for (const { pkg } of sent) expect(reads.some((r) => r.messageId === `<${pkg.title}@faspex.example.com>` && r.outcome === 'queued'), pkg.title).toBe(true);
    expect(reads.reduce((n, r) => n + Number(r.jobsAdded ?? 0), 0)).toBeLessThanOrEqual(sent.length);
    const status = JSON.parse((await runCli(['status', '--json'], { env: workEnv, cwd: dir.path })).stdout);
    // and the queue holds one job per package, every one completed
    expect(status.queues.downloads).toMatchObject({ completed: sent.length, failed: 0, waiting: 0, active: 0, delayed: 0 });
    console.info(`standby takeover (LISTENER_LEASE_SECONDS=3):\n  ${takeovers.join('\n  ')}`);
  }, 170_000);
});
