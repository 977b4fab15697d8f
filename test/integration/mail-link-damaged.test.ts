/**
 * "link damaged" through the real listener: a mail whose only package link is cut (a passcode
 * broken by quoting, no whole copy anywhere) is recorded with its reason and marked, and queues
 * nothing; the same chunk's whole mail is queued as usual.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../support/temp.js';
import { jobId, notification, startHarness, type Harness } from '../fixtures/mail/listener-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const PASSCODE = 'c0ffee0123456789abcdef0123456789abcdef01';
const CUT = `https://faspex.example.com/aspera/faspex/external_deliveries/4822?passcode=${PASSCODE.slice(0, 27)}`;

function forwardedCut(): string {
  return [
    'From: Ann <ann@studio.example>',
    'To: test@example.com',
    'Subject: Fwd: Package received: Q3',
    `Message-ID: <cut-${Math.random().toString(36).slice(2)}@studio.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'See below.',
    '',
    '> Download it here:',
    `> ${CUT}`,
    `>    ${PASSCODE.slice(27)}`,
    '',
  ].join('\r\n');
}

describe('mail listener: a link damaged in the mail', () => {
  it('records the mail as damaged with its reason, marks it $FaspexLinkDamaged, queues nothing for it', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-damaged');
    await h.dovecot.deliver(forwardedCut());
    await h.dovecot.deliver(notification(501));
    h.listener.start();
    const reports = await h.waitForReports(2);
    const damaged = reports.find((r) => r.messageId?.startsWith('<cut-'));
    expect(damaged).toMatchObject({ outcome: 'damaged', links: 0, jobsAdded: 0 });
    expect(damaged!.reason).toBe('link damaged: a Faspex 4 link to faspex.example.com is damaged: its passcode is cut short (27 of 40 hex digits); forward the original notification as an attachment or paste the whole link');
    expect(await h.jobIds()).toEqual([jobId(501)]);
    expect(await h.listener.state.skipped()).toMatchObject([{ uid: damaged!.uid, kind: 'damaged', reason: damaged!.reason }]);
    await waitFor(() => h!.listener.status().lastUid === 2, { what: 'progress past both mails' });

    const client = await h.imapClient();
    await client.mailboxOpen('INBOX');
    const msg = await client.fetchOne(String(damaged!.uid), { flags: true }, { uid: true });
    await client.logout();
    expect(msg && [...msg.flags!]).toContain('$FaspexLinkDamaged');
  });
});
