import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseGraphInbox } from '../../src/config/graph-inbox.js';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { createLogger } from '../../src/log/logger.js';
import { CursorState } from '../../src/mail/cursor-state.js';
import { GraphError, createGraphClient } from '../../src/mail/graph/graph-client.js';
import { createGraphReader, graphStateKey } from '../../src/mail/graph/graph-reader.js';
import { createImapAuthSource } from '../../src/mail/imap-auth/token-source.js';
import type { MailReport } from '../../src/mail/types.js';
import { enqueueDownloads } from '../../src/queue/producer.js';
import { QUEUE, type DownloadJobData } from '../../src/queue/queues.js';
import { startGraphSim, type GraphSim } from '../../src/standins/graph-sim/index.js';
import { startTokenService, type TokenService } from '../support/oauth-token-service.js';
import { uniqueName, waitFor } from '../support/temp.js';

/**
 * The Graph reader against the Graph and Entra stand-ins, a real Redis and a real queue (no
 * processes): a backlog larger than a delta page (nextLink pages, then the deltaLink), the move
 * to IMAP_MOVE_TO (folder created), a token for the wrong audience, an unknown $select property,
 * and the fenced commit of the delta link.
 */
const TENANT = 'fabrikam-tenant';
const MAILBOX = 'drop@fabrikam.example';
const link = (n: number) => `https://faspex.fabrikam.example/aspera/faspex/external_deliveries/${n}?passcode=${(n.toString(16).padStart(8, '0') + '0123456789abcdef0123456789abcdef').slice(0, 40)}`;
const logger = createLogger({ level: 'silent' });

describe('the Graph reader against the stand-ins', () => {
  let tokens: TokenService;
  let graph: GraphSim;
  let redis: Redis;

  beforeAll(async () => {
    tokens = await startTokenService();
    graph = await startGraphSim({ tenant: TENANT, signingKeyPem: tokens.signingKeyPem });
    tokens.addSecretClient('reader-app', 'reader-secret', MAILBOX);
    graph.mailbox(MAILBOX);
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await redis?.quit();
    await Promise.all([graph?.close(), tokens?.close()]);
  });

  const config = (moveTo?: string, folder = 'Inbox') => {
    const r = parseGraphInbox({ mailbox: MAILBOX, folder, tenant: TENANT, clientId: 'reader-app', clientSecret: 'reader-secret', pollSeconds: 2, baseUrl: graph.baseUrl, tokenUrl: tokens.entraTokenUrl(TENANT), caFile: graph.caFile, markKeyword: true, moveTo });
    if (!r.ok) throw new Error(r.problems.join('; '));
    return r.graph;
  };

  /** Package notifications delivered to a folder made for the test, oldest first. */
  const packagesIn = (folder: string, ids: number[]) => {
    graph.mailbox(MAILBOX).addFolder(folder, undefined);
    return ids.map((n) => graph.deliver(MAILBOX, { subject: `Package ${n}`, html: `<a href="${link(n).replace(/&/g, '&amp;')}">Download</a>` }, folder));
  };
  /** The message is deleted for good when the reader first sends this method for it. */
  const deleteWhenAsked = (method: string, message: { id: string }) => {
    const box = graph.mailbox(MAILBOX);
    graph.beforeAnswer((m, path) => {
      const gone = box.messages.get(message.id);
      if (m === method && path.endsWith(`/messages/${message.id}`) && gone) box.remove(gone);
    });
  };
  /** A reader of `g` into its own queue; `run` starts it, waits, then stops it and the deletion hook. */
  const readerOf = (prefix: string, g: ReturnType<typeof config>) => {
    const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: redis, prefix });
    const auth = createImapAuthSource({ auth: g.auth, caFile: g.caFile, redis, prefix, logger });
    const reader = createGraphReader({ graph: g, redis, prefix, enqueue: (items) => enqueueDownloads(queue, items, {}, {}), allowlist: parseAllowlist('faspex.fabrikam.example'), auth, logger });
    const reports: MailReport[] = [];
    const failures: MailReport[] = [];
    reader.on('mail', (r) => reports.push(r));
    reader.on('mail-failed', (r) => failures.push(r));
    const run = async (until: () => Promise<void>) => {
      reader.start();
      try {
        await until();
      } finally {
        graph.beforeAnswer(undefined);
        await reader.stop();
        await auth.close();
      }
    };
    return { queue, state: new CursorState(redis, graphStateKey(prefix, g)), reports, failures, run };
  };

  it('reads a backlog larger than a delta page once, each mail queued, categorised and moved to a folder it creates', async () => {
    const prefix = uniqueName('graph-reader');
    for (let n = 1; n <= 120; n++) graph.deliver(MAILBOX, { subject: `Package ${n}`, html: `<a href="${link(n).replace(/&/g, '&amp;')}">Download</a>` });
    const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: redis, prefix });
    const g = config('Faspex handled');
    const auth = createImapAuthSource({ auth: g.auth, caFile: g.caFile, redis, prefix, logger });
    const reader = createGraphReader({ graph: g, redis, prefix, enqueue: (items) => enqueueDownloads(queue, items, {}, {}), allowlist: parseAllowlist('faspex.fabrikam.example'), auth, logger });
    const reports: MailReport[] = [];
    reader.on('mail', (r) => reports.push(r));
    const before = graph.requests.length;
    reader.start();
    try {
      await waitFor(() => reports.length >= 120, { what: '120 mails read', timeoutMs: 90_000 });
      // a second round passes with nothing new: the moves show as removals, the categories are ours
      const rounds = () => graph.requests.slice(before).filter((r) => r.path.endsWith('/messages/delta') && r.status === 200).length;
      const now = rounds();
      await waitFor(() => rounds() > now + 1, { what: 'two more delta rounds', timeoutMs: 30_000 });
    } finally {
      await reader.stop();
      await auth.close();
    }
    expect(reports.filter((r) => r.outcome === 'queued')).toHaveLength(120);
    expect(new Set(reports.map((r) => r.id)).size).toBe(120);
    expect(await queue.count()).toBe(120);
    const box = graph.mailbox(MAILBOX);
    const handled = [...box.folders.values()].find((f) => f.displayName === 'Faspex handled');
    expect(handled).toBeDefined();
    const messages = [...box.messages.values()];
    expect(messages.every((m) => m.folderId === handled!.id && m.categories.includes('Faspex queued'))).toBe(true);
    // the first round took three pages of 50: two nextLinks, then the deltaLink
    expect(graph.requests.slice(before).filter((r) => r.path.endsWith('/messages/delta')).length).toBeGreaterThanOrEqual(3);
    const state = new CursorState(redis, graphStateKey(prefix, g));
    expect(await state.load()).toMatch(/\$(deltatoken|skiptoken)=/);
    expect((await state.handledAmong(messages.map((m) => m.id))).every(Boolean)).toBe(true);
    await queue.obliterate({ force: true });
    await queue.close();
  }, 120_000);

  it('is refused a token for another audience (an IMAP token), and an unknown $select property', async () => {
    const g = config();
    const imapScoped = createImapAuthSource({ auth: { ...g.auth, provider: { ...(g.auth.kind === 'oauth2' ? g.auth.provider : ({} as never)), scope: 'https://outlook.office365.com/.default' } } as typeof g.auth, caFile: g.caFile, logger });
    const wrong = createGraphClient({ baseUrl: graph.baseUrl, auth: imapScoped, caFile: graph.caFile, timeoutMs: 10_000, logger });
    await expect(wrong.get(`/users/${MAILBOX}/mailFolders/inbox/messages/delta`)).rejects.toMatchObject({ status: 401, graphMessage: expect.stringMatching(/Invalid audience/) });
    await wrong.close();
    await imapScoped.close();
    const right = createImapAuthSource({ auth: g.auth, caFile: g.caFile, logger });
    const client = createGraphClient({ baseUrl: graph.baseUrl, auth: right, caFile: graph.caFile, timeoutMs: 10_000, logger });
    const err = await client.get(`/users/${MAILBOX}/mailFolders/inbox/messages/delta?$select=id,attachmentBytes`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).status).toBe(400);
    await client.close();
    await right.close();
  });

  it('asks for a Faspex 5 sweep for a mail that names a server with an API client, before the delta link moves', async () => {
    const prefix = uniqueName('graph-f5');
    // a link form no extractor knows: only the host tells that the mail is that server's
    graph.deliver(MAILBOX, { subject: 'Package received', html: '<a href="https://f5.fabrikam.example/aspera/faspex/some/new/route/77">Open</a>' });
    const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: redis, prefix });
    const g = config();
    const auth = createImapAuthSource({ auth: g.auth, caFile: g.caFile, redis, prefix, logger });
    const state = new CursorState(redis, graphStateKey(prefix, g));
    const asks: Array<{ mentions: string[]; cursorThen: string | undefined }> = [];
    const faspex5 = {
      hosts: ['f5.fabrikam.example'],
      request: async (decisions: readonly { mentions?: string[] }[]) => {
        const mentions = decisions.flatMap((d) => d.mentions ?? []);
        if (mentions.length > 0) asks.push({ mentions, cursorThen: await state.load() });
      },
    };
    const reader = createGraphReader({ graph: g, redis, prefix, enqueue: (items) => enqueueDownloads(queue, items, {}, {}), allowlist: parseAllowlist('f5.fabrikam.example'), faspex5, auth, logger });
    reader.start();
    try {
      await waitFor(() => asks.length > 0, { what: 'the sweep ask', timeoutMs: 60_000 });
      await waitFor(async () => (await state.load()) !== undefined, { what: 'the delta link', timeoutMs: 30_000 });
    } finally {
      await reader.stop();
      await auth.close();
    }
    expect(asks[0]!.mentions).toEqual(['f5.fabrikam.example']);
    // asked while the delta link still pointed before the mail: a crash between ask and commit reads it again
    expect(asks[0]!.cursorThen).toBeUndefined();
    expect(await queue.count()).toBe(0);
    await queue.obliterate({ force: true });
    await queue.close();
  }, 120_000);

  it('passes over a mail deleted between its delta page and its reading: no record, no failure, the rest queued', async () => {
    const [first, deleted, last] = packagesIn('Gone test', [901, 902, 903]);
    // deleted for good as the reader asks for it: after the delta page listed it
    deleteWhenAsked('GET', deleted!);
    const { queue, state, reports, failures, run } = readerOf(uniqueName('graph-gone'), config(undefined, 'Gone test'));
    await run(async () => {
      await waitFor(() => reports.length >= 2, { what: 'two mails read', timeoutMs: 60_000 });
      await waitFor(async () => (await state.load()) !== undefined, { what: 'the delta link', timeoutMs: 30_000 });
    });
    expect(graph.requests.some((r) => r.path.endsWith(`/messages/${deleted!.id}`) && r.status === 404)).toBe(true);
    expect(reports.map((r) => [r.id, r.outcome])).toEqual([
      [first!.id, 'queued'],
      [last!.id, 'queued'],
    ]);
    expect(failures).toEqual([]);
    expect(await state.skipped()).toEqual([]);
    expect(await queue.count()).toBe(2);
    await queue.obliterate({ force: true });
    await queue.close();
  }, 120_000);

  it('marks and moves the rest of a chunk when one of its mails is deleted before its mark', async () => {
    const [deleted, ...kept] = packagesIn('Gone marks', [911, 912, 913]);
    // deleted for good as the reader marks it: after it was read and queued
    deleteWhenAsked('PATCH', deleted!);
    const box = graph.mailbox(MAILBOX);
    const handled = () => [...box.folders.values()].find((f) => f.displayName === 'Gone marks handled');
    const { queue, reports, run } = readerOf(uniqueName('graph-gone-mark'), config('Gone marks handled', 'Gone marks'));
    await run(async () => {
      await waitFor(() => reports.length >= 3, { what: 'three mails read', timeoutMs: 60_000 });
      await waitFor(() => kept.every((m) => box.messages.get(m.id)?.folderId === handled()?.id) || undefined, { what: 'the two others moved', timeoutMs: 30_000 });
    });
    expect(graph.requests.some((r) => r.method === 'PATCH' && r.path.endsWith(`/messages/${deleted!.id}`) && r.status === 404)).toBe(true);
    expect(reports.map((r) => r.outcome)).toEqual(['queued', 'queued', 'queued']);
    expect(kept.map((m) => box.messages.get(m.id)!.categories)).toEqual([['Faspex queued'], ['Faspex queued']]);
    expect(await queue.count()).toBe(3);
    await queue.obliterate({ force: true });
    await queue.close();
  }, 120_000);

  it('writes the delta link only while the lease is this reader\'s', async () => {
    const prefix = uniqueName('graph-fence');
    const leaseKey = `${prefix}:inbox:x:lease`;
    await redis.set(leaseKey, '7 host:1');
    const fence = { leaseKey, holder: '7 host:1', lost: (r: string) => new Error(`lost: ${r}`), assertHeld: () => undefined };
    const state = new CursorState(redis, `${prefix}:mail:graph:x/Inbox`, fence as never);
    await state.commit('https://graph/next1', ['m1'], []);
    expect(await state.load()).toBe('https://graph/next1');
    await redis.set(leaseKey, '8 other:2');
    await expect(state.commit('https://graph/next2', ['m2'], [])).rejects.toThrow(/lost: Redis refused to record progress/);
    expect(await state.load()).toBe('https://graph/next1');
    expect(await state.handledAmong(['m1', 'm2'])).toEqual([true, false]);
  });
});
