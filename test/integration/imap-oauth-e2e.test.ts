import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { QUEUE } from '../../src/queue/queues.js';
import { freePort } from '../../src/service/redis-server.js';
import { jobId, notification } from '../fixtures/mail/listener-harness.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { makeAppCertificate, startTokenService, type TokenService } from '../support/oauth-token-service.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * `faspex-ingest listen` as a real process logging in with OAuth2 to an OAuth-only Dovecot (it
 * offers no password login at all), its tokens issued by the test token service over HTTPS with
 * the token URL overridden, and checked by Dovecot through token introspection.
 */
const MAILBOX = 'test@example.com';

describe('listen with IMAP_AUTH=oauth2', () => {
  let tokens: TokenService;
  let redis: Redis;
  const dir = tempDir('oauth-e2e');
  const running: ServiceProcess[] = [];
  const started: Dovecot[] = [];

  beforeAll(async () => {
    tokens = await startTokenService();
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const s of running) console.error(s.output().slice(-4000));
  });
  afterAll(async () => {
    for (const s of running) await s.stop('SIGKILL');
    for (const d of started) await d.stop();
    await tokens?.close();
    redis?.disconnect();
    dir.remove();
  });

  async function oauthDovecot(): Promise<Dovecot> {
    const d = await startDovecot({ oauth: { introspectionUrl: tokens.introspectionUrl } });
    started.push(d);
    return d;
  }

  async function listen(dovecot: Dovecot, prefix: string, auth: Record<string, string>) {
    const metricsPort = await freePort();
    const env = {
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: prefix,
      DATA_DIR: join(dir.path, prefix),
      IMAP_HOST: dovecot.host,
      IMAP_PORT: String(dovecot.imapPort),
      IMAP_SECURE: 'false',
      IMAP_USER: MAILBOX,
      IMAP_AUTH: 'oauth2',
      // the token service's certificate comes from the test CA
      IMAP_CA_FILE: tokens.caFile,
      FASPEX_ALLOWED_HOSTS: 'faspex.example.com',
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'debug',
      ...auth,
    };
    const service = startServiceProcess(['listen'], env, dir.path);
    running.push(service);
    const health = async () => (await (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).json()) as { status: string; checks: { imap: { status: string; detail?: string } } };
    return { service, env, health };
  }

  async function queued(prefix: string, n: number): Promise<string[]> {
    const queue = new Queue(QUEUE.downloads, { connection: redis, prefix });
    try {
      return await waitFor(async () => {
        const ids = (await queue.getJobs(['waiting', 'delayed', 'prioritized'])).map((j) => j.id!).sort();
        return ids.length >= n ? ids : undefined;
      }, { what: `${n} queued jobs`, timeoutMs: 30_000 });
    } finally {
      await queue.close();
    }
  }

  /** no access token, refresh token, client secret or assertion in anything the process printed */
  function expectNoSecrets(service: ServiceProcess, secrets: string[]): void {
    const out = service.output();
    for (const s of [...secrets, ...tokens.issued]) expect(out).not.toContain(s);
  }

  it('microsoft, client secret: reads and queues mail; /healthz ok; nothing secret in the output', async () => {
    const dovecot = await oauthDovecot();
    tokens.addSecretClient('ms-secret-app', 'ms-client-secret-value', MAILBOX);
    const prefix = uniqueName('oa-ms');
    const { service, health } = await listen(dovecot, prefix, {
      IMAP_OAUTH_PROVIDER: 'microsoft', IMAP_OAUTH_TENANT: 'contoso', IMAP_OAUTH_CLIENT_ID: 'ms-secret-app',
      IMAP_OAUTH_CLIENT_SECRET: 'ms-client-secret-value', IMAP_OAUTH_TOKEN_URL: tokens.entraTokenUrl('contoso'),
    });
    await dovecot.deliver(notification(101));
    expect(await queued(prefix, 1)).toEqual([jobId(101)]);
    expect(await health()).toMatchObject({ checks: { imap: { status: 'ok' } } });
    const grant = tokens.grants.find((g) => g.client === 'ms-secret-app');
    expect(grant).toMatchObject({ path: '/contoso/oauth2/v2.0/token', grantType: 'client_credentials', ok: true });
    expect(grant!.fields.sort()).toEqual(['client_id', 'client_secret', 'grant_type', 'scope']);
    expectNoSecrets(service, ['ms-client-secret-value']);
  });

  it('microsoft, certificate: a signed client assertion, no secret sent', async () => {
    const dovecot = await oauthDovecot();
    const cert = await makeAppCertificate(dir.path, 'entra-app');
    tokens.addCertificateClient('ms-cert-app', cert.certPem, MAILBOX);
    const prefix = uniqueName('oa-mscert');
    const { service } = await listen(dovecot, prefix, {
      IMAP_OAUTH_PROVIDER: 'microsoft', IMAP_OAUTH_TENANT: 'contoso', IMAP_OAUTH_CLIENT_ID: 'ms-cert-app',
      IMAP_OAUTH_CERTIFICATE_FILE: cert.certFile, IMAP_OAUTH_KEY_FILE: cert.keyFile, IMAP_OAUTH_TOKEN_URL: tokens.entraTokenUrl('contoso'),
    });
    await dovecot.deliver(notification(102));
    expect(await queued(prefix, 1)).toEqual([jobId(102)]);
    const grant = tokens.grants.find((g) => g.client === 'ms-cert-app' && g.ok);
    expect(grant!.fields.sort()).toEqual(['client_assertion', 'client_assertion_type', 'client_id', 'grant_type', 'scope']);
    expectNoSecrets(service, []);
  });

  it('google, service account with domain-wide delegation: the mailbox is the JWT subject', async () => {
    const dovecot = await oauthDovecot();
    // the key file names Google's endpoint; IMAP_OAUTH_TOKEN_URL overrides it
    const sa = tokens.addServiceAccount('ingest@faspex-test.iam.gserviceaccount.com', ['https://mail.google.com/'], 'https://oauth2.googleapis.com/token');
    const keyFile = join(dir.path, 'service-account.json');
    writeFileSync(keyFile, sa.json, { mode: 0o600 });
    const prefix = uniqueName('oa-google');
    const { service } = await listen(dovecot, prefix, { IMAP_OAUTH_PROVIDER: 'google', IMAP_OAUTH_KEY_FILE: keyFile, IMAP_OAUTH_TOKEN_URL: tokens.googleTokenUrl });
    await dovecot.deliver(notification(103));
    expect(await queued(prefix, 1)).toEqual([jobId(103)]);
    expect(tokens.grants.find((g) => g.client === sa.clientEmail)).toMatchObject({ path: '/token', grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer', ok: true });
    expectNoSecrets(service, [JSON.parse(sa.json).private_key.split('\n')[1]]);
  });

  it('refresh token: the rotated one is kept in Redis, so a restarted listener logs in though the configured one is void', async () => {
    const dovecot = await oauthDovecot();
    const first = tokens.addRefreshClient('rt-client', MAILBOX, 'rt-client-secret');
    const prefix = uniqueName('oa-rt');
    const auth = {
      IMAP_OAUTH_PROVIDER: 'refresh-token', IMAP_OAUTH_TOKEN_URL: `${tokens.origin}/oauth/token`, IMAP_OAUTH_CLIENT_ID: 'rt-client',
      IMAP_OAUTH_CLIENT_SECRET: 'rt-client-secret', IMAP_OAUTH_REFRESH_TOKEN: first, IMAP_OAUTH_SCOPE: 'offline_access imap',
    };
    const one = await listen(dovecot, prefix, auth);
    await dovecot.deliver(notification(104));
    expect(await queued(prefix, 1)).toEqual([jobId(104)]);
    expect(await one.service.stop('SIGTERM')).toBe(0);
    // the provider rotated it: the configured refresh token is refused from now on
    const live = tokens.liveRefreshTokens('rt-client');
    expect(live).toHaveLength(1);
    expect(live[0]).not.toBe(first);
    const reuse = await request(`${tokens.origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'rt-client', client_secret: 'rt-client-secret', refresh_token: first }).toString(),
      dispatcher: new Agent({ connect: { ca: readFileSync(tokens.caFile, 'utf8') } }),
    });
    expect(reuse.statusCode).toBe(400);
    expect(await reuse.body.json()).toMatchObject({ error: 'invalid_grant' });

    // the same environment again, as after a restart once the access token expired: it must
    // refresh with the kept refresh token
    tokens.expireAccessTokens();
    const grantsBefore = tokens.grants.filter((g) => g.client === 'rt-client').length;
    const two = await listen(dovecot, prefix, auth);
    await dovecot.deliver(notification(105));
    expect(await queued(prefix, 2)).toEqual([jobId(104), jobId(105)].sort());
    const later = tokens.grants.filter((g) => g.client === 'rt-client').slice(grantsBefore);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((g) => g.ok)).toBe(true);
    expectNoSecrets(two.service, ['rt-client-secret', first, live[0]!]);
    expectNoSecrets(one.service, ['rt-client-secret', first, live[0]!]);
  });

  it('a token that expires while in IDLE: mail after expiry is queued, the token is renewed once the server ends the session', async () => {
    const dovecot = await oauthDovecot();
    tokens.addSecretClient('ms-idle-app', 'idle-secret-value', MAILBOX);
    const prefix = uniqueName('oa-idle');
    const { service, health } = await listen(dovecot, prefix, {
      IMAP_OAUTH_PROVIDER: 'microsoft', IMAP_OAUTH_TENANT: 'contoso', IMAP_OAUTH_CLIENT_ID: 'ms-idle-app',
      IMAP_OAUTH_CLIENT_SECRET: 'idle-secret-value', IMAP_OAUTH_TOKEN_URL: tokens.entraTokenUrl('contoso'),
    });
    await waitFor(() => service.output().includes('watching mailbox'), { what: 'the listener to be idling', timeoutMs: 30_000 });
    const grantsOf = () => tokens.grants.filter((g) => g.client === 'ms-idle-app' && g.ok).length;
    expect(grantsOf()).toBe(1);

    const refusedBefore = tokens.introspections.filter((i) => !i.active).length;
    tokens.expireAccessTokens();
    // the session opened with the token lives on: mail is still seen
    await dovecot.deliver(notification(106));
    expect(await queued(prefix, 1)).toEqual([jobId(106)]);
    // and when the server ends it (Exchange does at expiry), the next login needs a new token
    await dovecot.kick('test');
    await dovecot.deliver(notification(107));
    expect(await queued(prefix, 2)).toEqual([jobId(106), jobId(107)].sort());
    expect(grantsOf()).toBe(2);
    // the cached token was tried once and refused by the server, then renewed at once
    expect(tokens.introspections.filter((i) => !i.active)).toHaveLength(refusedBefore + 1);
    await waitFor(async () => (await health()).checks.imap.status === 'ok', { what: 'IMAP healthy again' });
    expectNoSecrets(service, ['idle-secret-value']);
  });

  it('a revoked client: /healthz says the mailbox login was refused, in the provider\'s words', async () => {
    const dovecot = await oauthDovecot();
    tokens.addSecretClient('ms-revoked-app', 'revoked-secret-value', MAILBOX);
    const prefix = uniqueName('oa-revoked');
    const { service, health } = await listen(dovecot, prefix, {
      IMAP_OAUTH_PROVIDER: 'microsoft', IMAP_OAUTH_TENANT: 'contoso', IMAP_OAUTH_CLIENT_ID: 'ms-revoked-app',
      IMAP_OAUTH_CLIENT_SECRET: 'revoked-secret-value', IMAP_OAUTH_TOKEN_URL: tokens.entraTokenUrl('contoso'),
    });
    await waitFor(() => service.output().includes('watching mailbox'), { what: 'the listener to be idling', timeoutMs: 30_000 });
    tokens.revokeClient('ms-revoked-app');
    await dovecot.kick('test');
    const report = await waitFor(async () => {
      const h = await health();
      return h.checks.imap.status === 'down' && h.checks.imap.detail?.includes('invalid_client') ? h : undefined;
    }, { what: '/healthz to report the refused login', timeoutMs: 30_000 });
    expect(report.status).toBe('degraded');
    expect(report.checks.imap.detail).toMatch(/^default: IMAP not connected: mailbox login refused: invalid_client: AADSTS7000222: The provided client secret keys for app 'ms-revoked-app' are expired/);
    // the log line travels through the child's stderr pipe, which may trail /healthz
    await waitFor(() => service.output().includes('mailbox login refused: invalid_client'), { what: 'the refusal in the log' });
    expectNoSecrets(service, ['revoked-secret-value']);
  });
});
