import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE, type DownloadJobData } from '../../src/queue/queues.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { logRecords } from '../support/proof.js';
import { serviceStack } from '../support/service-stack.js';
import { waitFor } from '../support/temp.js';

/**
 * One `listen` for three inboxes of MAILBOXES_FILE: two users and a second folder of one of them,
 * one inbox with a wrong password. The good ones read their mail (jobs carry their inbox id and
 * download folder); the bad one never stops them, and /healthz names it.
 */
describe('several inboxes in one listen', () => {
  const s = serviceStack('inboxes', {
    prepare: ({ dovecot }) => dovecot.adduser('studio', 'studio-pass'),
    env: (base, { dovecot, dir, port }) => {
      const file = join(dir.path, 'mailboxes.json');
      const box = (id: string, user: string, extra: Record<string, unknown>) => ({ id, host: dovecot.host, port: dovecot.imapPort, secure: false, user, ...extra });
      writeFileSync(file, JSON.stringify({
        mailboxes: [
          box('main', dovecot.user, { auth: { passwordEnv: 'MAIN_PASS' }, downloadFolder: 'main' }),
          box('main-faspex', dovecot.user, { folder: 'Faspex', auth: { passwordEnv: 'MAIN_PASS' }, downloadFolder: 'main/faspex' }),
          box('studio', 'studio', { auth: { passwordEnv: 'STUDIO_PASS' } }),
          box('broken', 'studio', { folder: 'Other', auth: { passwordEnv: 'WRONG_PASS' } }),
        ],
      }));
      return {
        ...Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('IMAP_'))),
        MAILBOXES_FILE: file, MAIN_PASS: dovecot.password, STUDIO_PASS: 'studio-pass', WRONG_PASS: 'not-the-password', METRICS_PORT: String(port),
      };
    },
  });

  it('reads every good inbox while one cannot log in, and names that one on /healthz', async () => {
    // the second folder of the main account, created as a mail client would
    const { ImapFlow } = await import('imapflow');
    const client = new ImapFlow({ host: s.dovecot.host, port: s.dovecot.imapPort, secure: false, auth: { user: s.dovecot.user, pass: s.dovecot.password }, logger: false });
    await client.connect();
    await client.mailboxCreate('Faspex');

    const listen = s.start(['listen']);
    const records = () => logRecords(listen.output());
    await waitFor(() => ['main', 'main-faspex', 'studio'].every((id) => records().some((r) => r.inbox === id && r.msg === 'watching mailbox')), { what: 'three inboxes watched', timeoutMs: 30_000 });

    const pkgs = ['main', 'main-faspex', 'studio'].map((id) => ({ id, pkg: s.sim.addPackage({ title: `for ${id}`, files: { 'a.bin': 100 } }) }));
    await s.dovecot.deliver(faspex4Notification({ link: pkgs[0]!.pkg.links.external, title: 'for main' }));
    await client.append('Faspex', faspex4Notification({ link: pkgs[1]!.pkg.links.external, title: 'for main-faspex' }));
    await s.dovecot.deliver(faspex4Notification({ link: pkgs[2]!.pkg.links.external, title: 'for studio' }), 'studio');
    await client.logout();

    await waitFor(() => ['main', 'main-faspex', 'studio'].every((id) => records().some((r) => r.inbox === id && r.msg === 'mail 1: queued')), { what: 'a mail queued in each good inbox', timeoutMs: 30_000 });
    // each job says which inbox announced it and where its package goes
    const redis = new Redis(inject('redisUrl'));
    const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: redis, prefix: s.env.QUEUE_PREFIX! });
    const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
    await queue.close();
    await redis.quit();
    expect(jobs.map((j) => [j.data.source.inbox, j.data.folder, j.data.source.subject]).sort()).toEqual([
      ['main', 'main', 'Package received: for main'],
      ['main-faspex', 'main/faspex', 'Package received: for main-faspex'],
      ['studio', undefined, 'Package received: for studio'],
    ]);

    // the broken inbox keeps retrying on its own; health is degraded and says which inbox and why
    await waitFor(() => records().some((r) => r.inbox === 'broken' && r.msg === 'IMAP connection ended; reconnecting'), { what: 'the broken inbox to fail', timeoutMs: 30_000 });
    const health = await waitFor(async () => {
      const r = await fetch(`http://127.0.0.1:${s.port}/healthz`);
      const body = (await r.json()) as { checks: { imap: { status: string; detail?: string } } };
      return body.checks.imap.status === 'down' ? body : undefined;
    }, { what: 'health to name the broken inbox' });
    expect(health.checks.imap.detail).toMatch(/broken: IMAP not connected/);
    expect(health.checks.imap.detail).toMatch(/main: IMAP connected; last UID 1/);
    expect(health.checks.imap.detail).toMatch(/studio: IMAP connected; last UID 1/);
    expect(health.checks.imap.detail).not.toContain('not-the-password');
  }, 90_000);
});
