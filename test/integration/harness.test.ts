import { ImapFlow } from 'imapflow';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';

// The harness itself: if these fail, every integration test below is meaningless.
describe('test harness', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('gives a real Redis', async () => {
    const redis = new Redis(inject('redisUrl'));
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    redis.disconnect();
  });

  it('gives a real Dovecot that delivers and survives a restart', async () => {
    await dovecot.deliver('From: a@example.com\r\nTo: test@example.com\r\nSubject: one\r\n\r\nbody\r\n');
    await dovecot.restart();
    const client = new ImapFlow({ host: dovecot.host, port: dovecot.imapPort, secure: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false });
    await client.connect();
    const mailbox = await client.mailboxOpen('INBOX');
    expect(mailbox.exists).toBe(1);
    await client.logout();
  });
});
