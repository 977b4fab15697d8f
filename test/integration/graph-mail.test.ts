import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readInboxStatuses } from '../../src/mail/inbox-status.js';
import { freePort } from '../../src/service/redis-server.js';
import type { Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim, type SimPackage } from '../../src/standins/faspex-sim/index.js';
import { startGraphSim, type GraphSim } from '../../src/standins/graph-sim/index.js';
import { startTokenService, type TokenService } from '../support/oauth-token-service.js';
import { completePackages, killLeftoverAscp, waitForRunning } from '../support/proof.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * A Microsoft 365 mailbox read through the Graph stand-in by real `run` processes (GRAPH_*
 * variables, client secret from GRAPH_CLIENT_SECRET_FILE, tokens from the Entra stand-in): the
 * reader is SIGKILLed right after queuing its first mail and before committing the delta link;
 * the standby takes over and every package completes exactly once. Then each failure of the
 * issue shows on /healthz and in the inbox status the packages page reads, and passes:
 * throttling, an expired delta link (no mail queued again), consent revoked (a token without
 * roles), a mailbox outside the application access policy, and the app's secret revoked.
 */
const TENANT = 'contoso-tenant';
const MAILBOX = 'faspex-drop@contoso.example';
const APP = 'graph-app';

describe('a Graph mailbox through the real run', () => {
  let sim: FaspexSim;
  let graph: GraphSim;
  let tokens: TokenService;
  let redis: Redis;
  let env: Record<string, string>;
  const dir = tempDir('graph-mail');
  const prefix = uniqueName('graph');
  const procs: ServiceProcess[] = [];
  const sent: SimPackage[] = [];

  beforeAll(async () => {
    [sim, tokens] = await Promise.all([createFaspexSim(), startTokenService()]);
    graph = await startGraphSim({ tenant: TENANT, signingKeyPem: tokens.signingKeyPem });
    tokens.addSecretClient(APP, 'graph-secret-value-42', MAILBOX);
    // short-lived tokens, so a change of consent reaches the reader within seconds
    tokens.lifetimeS = 12;
    graph.mailbox(MAILBOX);
    redis = new Redis(inject('redisUrl'));
    const base = serviceEnv({ redisUrl: inject('redisUrl'), prefix, dovecot: { host: '-', imapPort: 0, user: '-', password: '-' } as unknown as Dovecot, sim, dir: dir.path, extra: { WORKER_CONCURRENCY: '2' } });
    writeFileSync(join(dir.path, 'graph.secret'), 'graph-secret-value-42\n', { mode: 0o600 });
    env = Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('IMAP_')));
    Object.assign(env, {
      MAIL_SOURCE: 'graph', GRAPH_MAILBOX: MAILBOX, GRAPH_TENANT: TENANT, GRAPH_CLIENT_ID: APP, GRAPH_CLIENT_SECRET_FILE: join(dir.path, 'graph.secret'),
      GRAPH_POLL_SECONDS: '2', GRAPH_BASE_URL: graph.baseUrl, GRAPH_TOKEN_URL: tokens.entraTokenUrl(TENANT), GRAPH_CA_FILE: graph.caFile,
    });
    mkdirSync(env.DOWNLOAD_DIR!, { recursive: true });
  });

  afterAll(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    killLeftoverAscp(env.FAKE_ASCP_STATE_DIR!);
    await redis?.quit();
    await Promise.all([sim?.close(), graph?.close(), tokens?.close()]);
    dir.remove();
  });

  const run = async (extra: Record<string, string> = {}) => {
    const port = await freePort();
    const p = startServiceProcess(['run'], { ...env, DASHBOARD_PORT: String(port), ...extra }, dir.path);
    procs.push(p);
    await waitForRunning(p, 60_000);
    return { p, port };
  };
  const deliver = (title: string, how: 'html' | 'forwarded' | 'text' = 'html') => {
    const pkg = sim.addPackage({ title, files: { 'reel.bin': 30_000 + sent.length } });
    sent.push(pkg);
    const link = pkg.links.external;
    const html = `<p>You received the package <b>${title}</b>.</p><p><a href="${link.replace(/&/g, '&amp;')}">Download package</a></p>`;
    if (how === 'forwarded') {
      return graph.deliver(MAILBOX, { subject: `Fw: ${title}`, from: { address: 'producer@contoso.example' }, html: '<p>see attached</p>', attachedMessage: { subject: `Package received: ${title}`, html }, fileAttachment: { name: 'huge.mov', bytes: 200_000 } });
    }
    return graph.deliver(MAILBOX, how === 'text' ? { subject: `Package received: ${title}`, text: `Download package: ${link}` } : { subject: `Package received: ${title}`, html });
  };
  const complete = () => completePackages(env.DOWNLOAD_DIR!);
  const health = async (port: number) => {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    return r ? ((await r.json()) as { checks: Record<string, { status: string; detail?: string }> }).checks.listener : undefined;
  };
  const inboxReason = async () => (await readInboxStatuses(redis, prefix)).find((s) => s.inbox === 'default')?.reason ?? '';
  const healthSays = (port: number, status: 'ok' | 'down', text: RegExp) =>
    waitFor(async () => {
      const h = await health(port);
      return h?.status === status && text.test(h.detail ?? '') ? h : undefined;
    }, { what: `/healthz listener ${status} saying ${text}`, timeoutMs: 60_000 });

  let reader: { p: ServiceProcess; port: number };

  it('downloads every mail exactly once across a SIGKILL of the reader, a standby taking over', async () => {
    const first = await run({ FASPEX_INGEST_FAILPOINTS: 'listener.after-enqueue@1' });
    await waitFor(() => first.p.output().includes('watching mailbox'), { what: 'the first run to read the mailbox', timeoutMs: 60_000 });
    reader = await run();
    await waitFor(() => reader.p.output().includes('standby: another listener reads this inbox'), { what: 'the second run to wait as a standby', timeoutMs: 60_000 });
    deliver('graph-1');
    deliver('graph-2', 'forwarded');
    deliver('graph-3', 'text');
    expect(await first.p.exited).toBe('SIGKILL');
    await waitFor(() => reader.p.output().includes('watching mailbox'), { what: 'the standby to take over', timeoutMs: 60_000 });
    await waitFor(() => complete().length >= 3, { what: '3 packages complete', timeoutMs: 90_000 });
    const titles = complete().map((c) => c.manifest.title).sort();
    expect(titles).toEqual(['graph-1', 'graph-2', 'graph-3']);
    const ids = complete().map((c) => c.manifest.packageId);
    expect(new Set(ids).size).toBe(3);
    // handled mail carries its category; no byte of the 200 KB file attachment was fetched
    await waitFor(() => [...graph.mailbox(MAILBOX).messages.values()].every((m) => m.categories.includes('Faspex queued')), { what: 'every mail categorised Faspex queued', timeoutMs: 30_000 });
    expect(graph.fileBytesServed).toBe(0);
    expect(graph.requests.some((r) => r.path.endsWith('/messages/delta'))).toBe(true);
    await healthSays(reader.port, 'ok', /default: Microsoft Graph reading/);
  }, 240_000);

  it('shows throttling on /healthz and the inbox status, waits as Retry-After says, then reads on', async () => {
    graph.throttle(3, 4);
    await healthSays(reader.port, 'down', /throttled this mailbox \(HTTP 429 ApplicationThrottled.*waiting 4 s/);
    expect(await inboxReason()).toMatch(/throttled/);
    await healthSays(reader.port, 'ok', /Microsoft Graph reading/);
  }, 240_000);

  it('after an expired delta link, reads the folder again from the start and queues no handled mail again', async () => {
    const before = complete().length;
    const requestsBefore = graph.requests.length;
    graph.expireDeltaTokens();
    await healthSays(reader.port, 'ok', /delta link expired \(HTTP 410 SyncStateNotFound/);
    // the resync listed every mail again (a delta without a token) and read none of them
    await waitFor(() => graph.requests.slice(requestsBefore).some((r) => r.path.endsWith('/messages/delta') && r.status === 200), { what: 'a fresh delta round' });
    deliver('graph-4');
    await waitFor(() => complete().length >= before + 1, { what: 'the mail after the resync downloaded', timeoutMs: 60_000 });
    expect(graph.requests.slice(requestsBefore).filter((r) => r.method === 'GET' && /\/messages\/[^/]+$/.test(r.path) && !r.path.endsWith('/delta'))).toHaveLength(1);
    expect(complete().map((c) => c.manifest.title).sort()).toEqual(['graph-1', 'graph-2', 'graph-3', 'graph-4']);
  }, 240_000);

  it('names withdrawn consent (a token without Mail.ReadWrite) and a mailbox outside the access policy, and recovers', async () => {
    tokens.setRoles(APP, []);
    await healthSays(reader.port, 'down', /carries no Mail\.ReadWrite role/);
    tokens.setRoles(APP, ['Mail.ReadWrite']);
    await healthSays(reader.port, 'ok', /Microsoft Graph reading/);
    graph.setAccessPolicy(['someone-else@contoso.example']);
    await healthSays(reader.port, 'down', /application access policy does not let this app read faspex-drop@contoso\.example/);
    expect(await inboxReason()).toMatch(/access policy/);
    graph.setAccessPolicy(undefined);
    await healthSays(reader.port, 'ok', /Microsoft Graph reading/);
  }, 240_000);

  it('names a revoked client secret (invalid_client) without showing the secret', async () => {
    tokens.revokeClient(APP);
    const h = await healthSays(reader.port, 'down', /token endpoint refused the app's credentials \(invalid_client/);
    expect(h.detail).not.toContain('graph-secret-value-42');
    expect(reader.p.output()).not.toContain('graph-secret-value-42');
    // one download per package, whatever happened since
    expect(complete()).toHaveLength(4);
  }, 240_000);
});
