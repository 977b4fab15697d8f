/**
 * The packages page's inbox line (renderInboxes): what it says of each inbox's state, in words a
 * person acts on, by how the inbox is read.
 */
import { describe, expect, it } from 'vitest';
import { renderInboxes } from '../../src/dashboard/packages/html.js';
import { applyInboxEvent, initialStatus, type InboxSource } from '../../src/mail/inbox-status.js';

const NOW = new Date('2026-12-07T09:00:00Z');
const TTL = 60_000;
const connected = (source: InboxSource | undefined, idle: boolean) => {
  const fresh = initialStatus('default', source === 'graph' ? 'graph:drop@fabrikam.example/Inbox' : 'ingest@mail.example.com/INBOX', NOW, TTL, source);
  // a record written before inboxes had a source
  const status = source === undefined ? { ...fresh, source: undefined } : fresh;
  return applyInboxEvent(status, { type: 'connected', idle }, NOW, TTL);
};

describe('the inbox line of the packages page', () => {
  it.each([
    ['an IMAP inbox with IDLE', connected('imap', true), 'connected · IDLE (mail is pushed)'],
    ['an IMAP server without IDLE', connected('imap', false), 'connected · polling (no IDLE on the server)'],
    ['a record from before sources were told apart', connected(undefined, false), 'connected · polling (no IDLE on the server)'],
    ['a Microsoft Graph inbox, which polls by design', connected('graph', false), 'connected · polling Microsoft Graph for changes'],
  ] as const)('%s', (_what, status, words) => {
    const html = renderInboxes({ inboxes: [status], inboxesError: false }, NOW);
    expect(html).toContain(words);
  });

  it('names every way to configure an inbox when none reports', () => {
    const html = renderInboxes({ inboxes: [], inboxesError: false }, NOW);
    for (const name of ['IMAP_HOST', 'MAIL_SOURCE=graph', 'MAILBOXES_FILE', '<code>listen</code>']) expect(html).toContain(name);
  });
});
