import { afterEach, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../support/temp.js';
import { fixture, jobId, notification, startHarness, type Harness } from '../fixtures/mail/listener-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('mail listener: the happy paths', () => {
  it('queues a delivered notification within seconds, marks it $FaspexQueued and never \\Seen', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-basic');
    h.listener.start();
    await waitFor(() => h!.listener.status().connected, { what: 'connected' });
    await h.dovecot.deliver(notification(101));
    await h.waitForReports(1);
    expect(await h.jobIds()).toEqual([jobId(101)]);
    const job = await h.queue.getJob(jobId(101));
    expect(job?.data.source).toMatchObject({ type: 'mail', mailbox: 'INBOX', uid: 1, subject: 'Package 101', from: 'faspex@faspex.example.com' });
    expect(h.reports[0]).toMatchObject({ uid: 1, outcome: 'queued', links: 1, jobsAdded: 1 });
    expect(h.listener.status()).toMatchObject({ connected: true, lastUid: 1, lastError: undefined });
    expect(await h.redis.hget(`${h.prefix}:mail:test@127.0.0.1/INBOX`, 'lastUid')).toBe('1');

    const client = await h.imapClient();
    await client.mailboxOpen('INBOX');
    const msg = await client.fetchOne('1', { flags: true }, { uid: true });
    await client.logout();
    expect(msg && [...msg.flags!]).toContain('$FaspexQueued');
    expect(msg && [...msg.flags!]).not.toContain('\\Seen');
  });

  it('marks mail without a link $FaspexNoLink and queues nothing', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-nolink');
    h.listener.start();
    await h.dovecot.deliver(fixture('submission-invitation.eml'));
    const [report] = await h.waitForReports(1);
    expect(report).toMatchObject({ outcome: 'no-link', links: 0 });
    expect(await h.jobIds()).toEqual([]);
  });

  it('reads a notification forwarded as an attachment', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-attached');
    h.listener.start();
    await h.dovecot.deliver(fixture('forward-as-attachment.eml'));
    await h.waitForReports(1);
    expect(await h.jobIds()).toEqual(['faspex4-external-faspex.example.com-1017']);
  });

  it('queues the same package once when two mails announce it', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-dedupe');
    h.listener.start();
    await h.dovecot.deliver(fixture('f4-external.eml'));
    await h.dovecot.deliver(fixture('reply-quoting.eml'));
    const reports = await h.waitForReports(2);
    expect(reports.map((r) => [r.outcome, r.jobsAdded])).toEqual([
      ['queued', 1],
      ['queued', 0],
    ]);
    expect(await h.jobIds()).toEqual(['faspex4-external-faspex.example.com-1017']);
  });

  it('does not download a 20 MB attachment sitting beside a good link', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-big');
    h.listener.start();
    const big = Buffer.alloc(20 * 1024 * 1024, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
    const mail = [
      'From: Faspex <faspex@faspex.example.com>',
      'Subject: Package with a big attachment',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="B"',
      '',
      '--B',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'To view the package, go to https://faspex.example.com/aspera/faspex/received/202',
      '--B',
      'Content-Type: application/octet-stream; name="huge.bin"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="huge.bin"',
      '',
      big,
      '--B--',
      '',
    ].join('\r\n');
    await h.dovecot.deliver(mail);
    const [report] = await h.waitForReports(1);
    expect(report).toMatchObject({ outcome: 'queued', links: 1 });
    expect(report!.bytesFetched).toBeLessThan(64 * 1024);
    expect(await h.jobIds()).toEqual([jobId(202)]);
  });

  it('with startAt=newest, leaves mail that was there before the first run alone', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-newest', { imap: { startAt: 'newest' } });
    await h.dovecot.deliver(notification(1));
    await h.dovecot.deliver(notification(2));
    h.listener.start();
    await waitFor(() => h!.listener.status().connected, { what: 'connected' });
    await h.dovecot.deliver(notification(3));
    await h.waitForReports(1);
    expect(await h.jobIds()).toEqual([jobId(3)]);
  });

  it('moves handled mail to IMAP_MOVE_TO, creating the folder', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-move', { imap: { moveTo: 'Processed' } });
    h.listener.start();
    await h.dovecot.deliver(notification(7));
    await h.waitForReports(1);
    expect(await messagesIn(h, 'Processed', 'INBOX')).toEqual([1, 0]);
  });

  it('makes IMAP_MOVE_TO again when a person deleted it, and moves the next mail there', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-move-again', { imap: { moveTo: 'Processed' } });
    h.listener.start();
    await h.dovecot.deliver(notification(17));
    await h.waitForReports(1);
    const client = await h.imapClient();
    await client.mailboxDelete('Processed');
    await client.logout();
    await h.dovecot.deliver(notification(18));
    await h.waitForReports(2);
    expect(await messagesIn(h, 'Processed', 'INBOX')).toEqual([1, 0]);
  });

  it('refuses mail the sender policy does not vouch for, and records it', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-policy', { senderPolicy: { allowedForwarders: ['studio.example'], authservId: 'mx.example.com' } });
    h.listener.start();
    const trusted = `Authentication-Results: mx.example.com; dkim=pass header.d=studio.example; dmarc=pass header.from=studio.example\r\n${notification(301).replace('From: Faspex <faspex@faspex.example.com>', 'From: Bob <bob@studio.example>')}`;
    const forged = `Authentication-Results: mx.example.com; dmarc=fail header.from=studio.example\r\n${notification(302).replace('From: Faspex <faspex@faspex.example.com>', 'From: Bob <bob@studio.example>')}`;
    await h.dovecot.deliver(forged);
    await h.dovecot.deliver(trusted);
    const reports = await h.waitForReports(2);
    // Matched by Message-ID, not by UID: when both deliveries land before the listener's first
    // SELECT, Dovecot may number the two maildir files in either order (seen under load).
    const forgedReport = reports.find((r) => r.messageId?.startsWith('<pkg-302-'));
    const trustedReport = reports.find((r) => r.messageId?.startsWith('<pkg-301-'));
    expect([forgedReport?.outcome, trustedReport?.outcome]).toEqual(['refused', 'queued']);
    expect(await h.jobIds()).toEqual([jobId(301)]);
    expect(await h.listener.state.skipped()).toMatchObject([{ uid: forgedReport!.uid, kind: 'refused' }]);
  });
});

/** How many messages each folder holds, as a person's client sees them. */
async function messagesIn(harness: Harness, ...folders: string[]): Promise<(number | undefined)[]> {
  const client = await harness.imapClient();
  try {
    const counts: (number | undefined)[] = [];
    for (const folder of folders) {
      const status = await client.status(folder, { messages: true });
      counts.push(status ? status.messages : undefined);
    }
    return counts;
  } finally {
    await client.logout();
  }
}
