/**
 * Mail for the benchmarks: Faspex notifications with distinct package links, and a backlog
 * written straight into the Dovecot maildir (`new/`), which is far faster than 10,000 LDA or
 * APPEND round trips and is exactly what an MTA leaves behind. Dovecot indexes them on the next
 * SELECT; the benchmarks do that SELECT themselves, outside the measured part.
 */
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { Dovecot } from '../../src/standins/dovecot.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';

/** A notification for package `id` on the simulator at `baseUrl` (links need not resolve). */
export function notificationFor(baseUrl: string, id: number): string {
  const link = `${baseUrl}/external_deliveries/${id}?passcode=${randomBytes(20).toString('hex')}`;
  return faspex4Notification({ link, title: `Bench package ${id}`, messageId: `<bench-${id}-${randomBytes(4).toString('hex')}@faspex.example.com>` });
}

export function imapClient(dovecot: Dovecot, extra: Partial<ImapFlowOptions> = {}): ImapFlow {
  return new ImapFlow({ ...extra, host: dovecot.host, port: dovecot.imapPort, secure: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false });
}

/** Writes `count` mails into INBOX/new and waits until Dovecot has indexed them all. */
export async function loadBacklog(dovecot: Dovecot, count: number, mail: (i: number) => string): Promise<{ seconds: number; bytes: number }> {
  const started = performance.now();
  // A first login creates the maildir with the owner Dovecot delivers as.
  const client = imapClient(dovecot);
  await client.connect();
  await client.mailboxOpen('INBOX');
  const root = dovecot.maildir();
  const owner = statSync(root);
  const fresh = join(root, 'new');
  mkdirSync(fresh, { recursive: true });
  let bytes = 0;
  const stamp = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    const text = mail(i);
    bytes += text.length;
    const file = join(fresh, `${stamp}.M${i}P${process.pid}.bench`);
    writeFileSync(file, text);
    if (process.getuid?.() === 0) chownSync(file, owner.uid, owner.gid);
  }
  // Re-selecting makes Dovecot scan new/, assign UIDs and build its index: not the service's cost.
  await client.mailboxClose();
  const box = await client.mailboxOpen('INBOX');
  await client.logout();
  if (box.exists !== count) throw new Error(`Dovecot indexed ${box.exists} of ${count} backlog mails`);
  return { seconds: (performance.now() - started) / 1000, bytes };
}
