import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImapTls } from '../../src/config/config.js';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { createLogger } from '../../src/log/logger.js';
import { INSECURE_WARNING } from '../../src/mail/imap-tls.js';
import { MailListener } from '../../src/mail/listener.js';
import { enqueueDownloads } from '../../src/queue/producer.js';
import { QUEUE, type DownloadJobData } from '../../src/queue/queues.js';
import { freePort } from '../../src/service/redis-server.js';
import { jobId, notification } from '../fixtures/mail/listener-harness.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { startServiceProcess } from '../support/service-process.js';
import { getTestCa, type TestCa } from '../../src/standins/test-ca.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * IMAP over implicit TLS to a Dovecot whose certificate comes from the test CA: trusted only
 * through IMAP_CA_FILE, refused without it (with advice), and accepted unverified only when
 * IMAP_INSECURE_TLS opts in, which is warned about.
 */
describe('IMAP TLS', () => {
  let ca: TestCa;
  let dovecot: Dovecot;
  let redis: Redis;
  const listeners: MailListener[] = [];
  const queues: Queue[] = [];

  beforeAll(async () => {
    ca = await getTestCa();
    dovecot = await startDovecot({ tls: { certFile: ca.serverCertFile, keyFile: ca.serverKeyFile } });
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    for (const l of listeners) await l.stop();
    for (const q of queues) await q.close();
    redis?.disconnect();
    await dovecot?.stop();
  });

  function listener(label: string, tls: ImapTls) {
    const prefix = uniqueName(label);
    const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: redis, prefix });
    queues.push(queue);
    const logged: string[] = [];
    const l = new MailListener({
      imap: {
        host: '127.0.0.1', port: dovecot.imapsPort, secure: true, user: dovecot.user, password: dovecot.password, mailbox: 'INBOX',
        markKeyword: true, moveTo: undefined, resyncSeconds: 300, startAt: 'oldest', tls,
      },
      redis,
      prefix,
      enqueue: (items) => enqueueDownloads(queue, items, { attempts: 1 }),
      allowlist: parseAllowlist('faspex.example.com'),
      logger: createLogger({ level: 'info', destination: { write: (line: string) => void logged.push(line) } }),
      tuning: { backoffBaseMs: 100, backoffMaxMs: 500 },
    });
    listeners.push(l);
    l.start();
    const jobs = async () => (await queue.getJobs(['waiting'])).map((j) => j.id);
    return { listener: l, logged, jobs };
  }

  it('trusts the server with IMAP_CA_FILE and reads mail', async () => {
    const { listener: l, jobs, logged } = listener('tls-ca', { caFile: ca.caFile, insecure: false });
    await waitFor(() => l.status().connected, { what: 'a verified TLS connection' });
    await dovecot.deliver(notification(201));
    await waitFor(async () => (await jobs()).includes(jobId(201)), { what: 'the mail queued' });
    expect(logged.join('')).not.toContain('NOT verified');
  });

  it('refuses the server without the CA, and says what to set', async () => {
    const { listener: l } = listener('tls-noca', { caFile: undefined, insecure: false });
    const error = await waitFor(() => l.status().lastError, { what: 'the refusal' });
    expect(error).toMatch(/^the IMAP server 127\.0\.0\.1's certificate could not be verified \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\): .*set IMAP_CA_FILE/);
    expect(l.status().connected).toBe(false);
  });

  it('with IMAP_INSECURE_TLS=true connects unverified and warns', async () => {
    const { listener: l, logged } = listener('tls-insecure', { caFile: undefined, insecure: true });
    await waitFor(() => l.status().connected, { what: 'an unverified TLS connection' });
    const warning = logged.map((line) => JSON.parse(line) as { level: string; msg: string }).find((r) => r.msg === INSECURE_WARNING);
    expect(warning?.level).toBe('warn');
  });

  it('listen: IMAP_CA_FILE from the environment, and the opt-in warned about at start', async () => {
    const dir = tempDir('tls-cli');
    const base = {
      REDIS_URL: inject('redisUrl'), DATA_DIR: join(dir.path, 'data'), IMAP_HOST: '127.0.0.1', IMAP_PORT: String(dovecot.imapsPort), IMAP_SECURE: 'true',
      IMAP_USER: dovecot.user, IMAP_PASSWORD: dovecot.password, FASPEX_ALLOWED_HOSTS: 'faspex.example.com', LOG_LEVEL: 'info',
    };
    const trusted = startServiceProcess(['listen'], { ...base, QUEUE_PREFIX: uniqueName('tls-cli-ca'), IMAP_CA_FILE: ca.caFile, METRICS_PORT: String(await freePort()) }, dir.path);
    const insecure = startServiceProcess(['listen'], { ...base, QUEUE_PREFIX: uniqueName('tls-cli-insecure'), IMAP_INSECURE_TLS: 'true', METRICS_PORT: String(await freePort()) }, dir.path);
    try {
      for (const s of [trusted, insecure]) await waitFor(() => s.output().includes('watching mailbox'), { what: 'listen to be reading the mailbox', timeoutMs: 30_000 });
      expect(trusted.output()).not.toContain('IMAP_INSECURE_TLS');
      expect(insecure.output()).toContain(INSECURE_WARNING);
    } finally {
      await Promise.all([trusted.stop(), insecure.stop()]);
      dir.remove();
    }
  });
});
