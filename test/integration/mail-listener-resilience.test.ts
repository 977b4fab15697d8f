import { afterEach, describe, expect, inject, it } from 'vitest';
import type { EnqueueResult } from '../../src/queue/producer.js';
import { enqueueDownloads } from '../../src/queue/producer.js';
import { waitFor } from '../support/temp.js';
import { jobId, notification, startHarness, type Harness } from '../fixtures/mail/listener-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('mail listener: restarts, outages and bad mail', () => {
  it('after stop and start: no duplicate, and mail delivered while stopped is picked up', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-restart');
    h.listener.start();
    await h.dovecot.deliver(notification(1));
    await h.waitForReports(1);
    await h.listener.stop();
    expect(h.listener.status().connected).toBe(false);

    await h.dovecot.deliver(notification(2));
    const second = h.newListener();
    second.start();
    await h.waitForReports(2);
    await waitFor(() => second.status().lastUid === 2, { what: 'lastUid 2' });
    expect(h.reports.map((r) => r.uid)).toEqual([1, 2]);
    expect(await h.jobIds()).toEqual([jobId(1), jobId(2)].sort());
  });

  it('reconnects by itself after the IMAP server restarts, and catches up', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-imap-restart');
    const disconnects: string[] = [];
    h.listener.on('disconnected', (d) => disconnects.push(d.reason));
    h.listener.start();
    await h.dovecot.deliver(notification(1));
    await h.waitForReports(1);

    await h.dovecot.restart();
    await waitFor(() => disconnects.length > 0, { what: 'the listener to notice' });
    await h.dovecot.deliver(notification(2));
    await h.waitForReports(2, 'the mail delivered across the restart');
    await waitFor(() => h!.listener.status().connected, { what: 'reconnected' });
    expect(await h.jobIds()).toEqual([jobId(1), jobId(2)].sort());
  });

  it('rescans when UIDVALIDITY changes, relying on job ids for dedup', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-uidvalidity', { imap: { mailbox: 'Faspex' } });
    const admin = await h.imapClient();
    await admin.mailboxCreate('Faspex');
    await admin.append('Faspex', notification(1));
    h.listener.start();
    await h.waitForReports(1);
    const before = h.listener.status().uidValidity;
    await h.listener.stop();

    // Recreating the folder gives it a new UIDVALIDITY; the old mail comes back with it.
    await admin.mailboxDelete('Faspex');
    await admin.mailboxCreate('Faspex');
    await admin.append('Faspex', notification(1));
    await admin.append('Faspex', notification(2));
    await admin.logout();

    const again = h.newListener();
    again.start();
    await h.waitForReports(3);
    await waitFor(() => again.status().lastUid === 2, { what: 'rescan done' });
    expect(again.status().uidValidity).not.toBe(before);
    expect(h.reports.slice(1).map((r) => [r.uid, r.outcome, r.jobsAdded])).toEqual([
      [1, 'queued', 0],
      [2, 'queued', 1],
    ]);
    expect(await h.jobIds()).toEqual([jobId(1), jobId(2)].sort());
  });

  it('records an unparseable mail and skips it; the next good mail still queues', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-poison');
    h.listener.start();
    // more MIME parts than mailparser accepts (1000): it refuses to parse the message
    const poison = [
      'From: x@example.com',
      'Subject: poison',
      'Message-ID: <poison@example.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary=b',
      '',
      ...Array.from({ length: 1100 }, () => '--b\r\nContent-Type: text/plain\r\n\r\nx'),
      '--b--',
      '',
    ].join('\r\n');
    await h.dovecot.deliver(poison);
    await h.dovecot.deliver(notification(9));
    const reports = await h.waitForReports(2);
    // Dovecot gives Maildir deliveries their UIDs when a session syncs, not in delivery order:
    // tell the two mails apart by Message-ID
    const poisoned = reports.find((r) => r.messageId === '<poison@example.com>');
    expect(poisoned).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/child nodes/) });
    expect(reports.find((r) => r !== poisoned)).toMatchObject({ outcome: 'queued' });
    expect(await h.listener.state.skipped()).toMatchObject([{ uid: poisoned!.uid, messageId: '<poison@example.com>', kind: 'unreadable' }]);
    expect(await h.jobIds()).toEqual([jobId(9)]);
    expect(h.listener.status().connected).toBe(true);
  });

  it('does not advance while enqueue fails, and retries the mail after backoff', async () => {
    let failures = 2;
    const calls: number[] = [];
    h = await startHarness(inject('redisUrl'), 'ml-enqueue-down');
    const queue = h.queue;
    const listener = h.newListener({
      enqueue: async (items): Promise<EnqueueResult[]> => {
        calls.push(Date.now());
        if (failures-- > 0) throw new Error('Redis is down (simulated)');
        return enqueueDownloads(queue, items, { attempts: 1 });
      },
    });
    listener.start();
    await h.dovecot.deliver(notification(5));
    await waitFor(() => h!.reports.length === 1, { what: 'the mail to be handled after retries' });
    expect(calls).toHaveLength(3);
    expect(h.reports[0]).toMatchObject({ uid: 1, outcome: 'queued' });
    expect(await h.jobIds()).toEqual([jobId(5)]);
    await listener.stop();
    await h.listener.stop();
  });

  it('gives up on a mail whose reading keeps killing the connection', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-attempts');
    // Three earlier reads of uid 1 died midway (as if the server dropped the connection each time).
    const key = h.listener.state.key;
    h.listener.start();
    await waitFor(() => h!.listener.status().uidValidity, { what: 'connected' });
    await h.listener.stop();
    const uidValidity = (await h.redis.hget(key, 'uidValidity'))!;
    await h.redis.hset(`${key}:attempts`, `${uidValidity}:1`, '3');
    await h.dovecot.deliver(notification(11));
    const again = h.newListener();
    again.start();
    const [report] = await h.waitForReports(1);
    expect(report).toMatchObject({ uid: 1, outcome: 'failed' });
    expect(report!.reason).toMatch(/ended the IMAP connection 3 times/);
    expect(await h.redis.hlen(`${key}:attempts`)).toBe(0);
  });

  it('reports connection problems in status() and keeps retrying', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-badpass', { imap: { password: 'wrong' } });
    h.listener.start();
    await waitFor(() => h!.listener.status().lastError, { what: 'an error in status()' });
    expect(h.listener.status()).toMatchObject({ connected: false });
    expect(h.listener.status().lastError).not.toContain('wrong');
  });
});
