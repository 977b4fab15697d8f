import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import type { InboxConfig } from '../../src/config/inbox.js';
import { createLogger } from '../../src/log/logger.js';
import { ImapTlsConfigError } from '../../src/mail/imap-tls.js';
import { InboxRunner } from '../../src/mail/inbox-runner.js';
import type { RedisClient } from '../../src/queue/connection.js';
import type { DownloadJobData } from '../../src/queue/queues.js';

const dir = mkdtempSync(join(tmpdir(), 'inbox-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runnerFor(caFile: string | undefined): InboxRunner {
  const inbox: InboxConfig = {
    id: 'a',
    imap: { host: 'mail.example', port: 993, secure: true, user: 'u', password: 'p', mailbox: 'INBOX', markKeyword: false, moveTo: undefined, resyncSeconds: 60, startAt: 'oldest', tls: { caFile, insecure: false } },
    allowedHosts: [],
    senderPolicy: undefined,
    maxLinks: 50,
    downloadFolder: undefined,
  };
  // Nothing here talks to Redis: the runner is built, never started.
  return new InboxRunner({
    inbox, redis: {} as RedisClient, queue: {} as Queue<DownloadJobData>, jobOptions: {}, prefix: 't', leaseMs: 10_000, owner: 'test:1',
    logger: createLogger({ level: 'silent' }),
  });
}

describe('InboxRunner at start', () => {
  // Before the check, the file was first read after the lease was won: the loop died holding it.
  it('refuses an unreadable IMAP_CA_FILE before taking any lease', () => {
    const missing = join(dir, 'missing.pem');
    expect(() => runnerFor(missing)).toThrow(ImapTlsConfigError);
    expect(() => runnerFor(missing)).toThrow(`IMAP_CA_FILE ${missing} cannot be read: ENOENT`);
  });

  it('accepts a readable CA file and none at all', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(runnerFor(ca)).toBeInstanceOf(InboxRunner);
    expect(runnerFor(undefined)).toBeInstanceOf(InboxRunner);
  });
});
