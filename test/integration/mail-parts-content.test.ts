/**
 * The listener's way of reading a mail (issue 23 item 1): BODYSTRUCTURE from a real Dovecot, the
 * planned text parts fetched, decoded in place (decideFetched: src/mail/mime/parts-content.ts) and decided,
 * with no message rebuilt and parsed again. For every fixture and for generated mails (every
 * charset, transfer encoding, body shape, attached forward and gateway), the decision is the one
 * mailparser's reading of the whole message gives: kind, links byte for byte, warnings, reason,
 * Message-ID, Subject, From.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { decideContent, decideFetched } from '../../src/mail/decide.js';
import { contentOfParsed } from '../../src/mail/extract/index.js';
import { fetchMeta, fetchPartsBatched } from '../../src/mail/fetch-message.js';
import { planMail } from '../../src/mail/mime-plan.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { GENERATED_ALLOWED, mailSpecArb, renderMail } from '../support/generated-mail.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'mail');
const ALLOW = parseAllowlist(`${GENERATED_ALLOWED}, faspex5.example.com, xfer.faspex.example.com`);

let dovecot: Dovecot;
let client: ImapFlow;
beforeAll(async () => {
  dovecot = await startDovecot();
  client = new ImapFlow({ host: dovecot.host, port: dovecot.imapPort, secure: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false });
  await client.connect();
  await client.mailboxOpen('INBOX');
}, 120_000);
afterAll(async () => {
  await client?.logout().catch(() => undefined);
  await dovecot?.stop();
});

async function compare(mails: Buffer[]): Promise<void> {
  const uids: number[] = [];
  for (const raw of mails) {
    const appended = await client.append('INBOX', raw);
    if (!appended || !appended.uid) throw new Error('Dovecot did not say the UID of an appended mail (UIDPLUS)');
    uids.push(appended.uid);
  }
  const metas = await fetchMeta(client, uids);
  expect(metas.map((m) => m.uid)).toEqual(uids);
  const got = new Map<number, unknown>();
  for await (const { request, fetched } of fetchPartsBatched(client, metas.map((m) => planMail(m)), { maxPartBytes: 2 * 1024 * 1024, budgetBytes: 4 * 1024 * 1024 })) {
    got.set(request.meta.uid, await decideFetched(request.meta.header, request.root, fetched!.parts, { allowlist: ALLOW }));
  }
  for (const [i, raw] of mails.entries()) {
    const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, keepCidLinks: true });
    expect(got.get(uids[i]!), `mail ${i}:\n${raw.toString('latin1').slice(0, 4000)}`).toEqual(await decideContent(contentOfParsed(parsed), { allowlist: ALLOW }));
  }
}

describe('reading a mail from its fetched parts decides as mailparser does', () => {
  it('every fixture', async () => {
    const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml'));
    await compare(names.map((n) => readFileSync(join(FIXTURES, n))));
  }, 120_000);

  it('generated mails (120)', async () => {
    await compare(fc.sample(mailSpecArb, { numRuns: 120, seed: 2324 }).map((spec) => renderMail(spec)));
  }, 300_000);
});
