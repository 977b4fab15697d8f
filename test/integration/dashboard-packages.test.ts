/**
 * The packages page over plain HTTP against a real Redis: behind the login, retry and remove
 * only from the page itself (form token and same origin), refused in read-only mode, remove
 * refused while a package downloads, inbox health at the top, passcodes nowhere.
 */
import { Queue, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/index.js';
import { createLogger } from '../../src/log/logger.js';
import { DEFAULT_INBOX_ID, InboxStatusPublisher, readInboxStatuses } from '../../src/mail/inbox-status.js';
import { QUEUE } from '../../src/queue/queues.js';
import { createHealthCheck, redisPingProbe } from '../../src/service/health.js';
import { createMetrics } from '../../src/service/metrics.js';
import { redisForFile } from '../support/redis-for-file.js';
import { uniqueName, waitFor } from '../support/temp.js';

const USER = 'ops';
const PASSWORD = 'packages-http-password';
const AUTH = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
const PASSCODE = 'deadbeef'.repeat(5);

const shared = redisForFile();
const { cleanups } = shared;

const data = (id: string) => ({
  link: `https://fx.example.com/aspera/faspex/external_deliveries/${id}?passcode=${PASSCODE}`,
  kind: 'faspex4-external',
  server: 'fx.example.com',
  packageId: id,
  source: { type: 'mail', subject: `Faspex package ${id}`, from: 'Ann <faspex@fx.example.com>' },
  queuedAt: new Date().toISOString(),
});

async function setup(readOnly = false): Promise<{ queue: Queue; dashboard: RunningDashboard; prefix: string }> {
  const prefix = uniqueName('pkg-http');
  const queue = new Queue(QUEUE.downloads, { connection: shared.redis, prefix });
  cleanups.push(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
  });
  const dashboard = await startDashboard({
    queues: [queue],
    config: { host: '127.0.0.1', port: 0, user: USER, password: PASSWORD, readOnly },
    metrics: createMetrics({ defaultMetrics: false }),
    health: createHealthCheck({ redis: redisPingProbe(shared.redis) }),
    logger: createLogger({ level: 'silent' }),
    inboxes: () => readInboxStatuses(shared.redis, prefix),
  });
  cleanups.push(() => dashboard.close());
  return { queue, dashboard, prefix };
}

/** A job failed for good, by a real worker. */
async function failedJob(queue: Queue, id: string): Promise<void> {
  await queue.add(`Faspex package ${id}`, data(id), { jobId: `job-${id}` });
  const worker = new Worker(queue.name, async () => {
    throw new Error(`the server sent a web page for ?passcode=${PASSCODE} [LINK_EXPIRED]`);
  }, { connection: shared.redis.duplicate(), prefix: queue.opts.prefix! });
  await waitFor(async () => (await queue.getJob(`job-${id}`))?.finishedOn, { what: 'the job to fail' });
  await worker.close();
}

async function page(url: string): Promise<{ status: number; html: string; csrf: string }> {
  const res = await fetch(url, { headers: AUTH });
  const html = await res.text();
  return { status: res.status, html, csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '' };
}

function post(base: string, path: string, body: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(new URL(path, base), { method: 'POST', redirect: 'manual', headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body).toString() });
}

describe('packages page over HTTP', () => {
  it('needs the login, and shows the inbox health and the failure in words, never the passcode', async () => {
    const { queue, dashboard, prefix } = await setup();
    await failedJob(queue, '11');
    expect((await fetch(dashboard.url)).status).toBe(401);
    const inbox = new InboxStatusPublisher({ redis: shared.redis, prefix, inbox: DEFAULT_INBOX_ID, label: 'ingest@mail.example.com/INBOX' });
    cleanups.push(() => inbox.stop());
    await inbox.apply({ type: 'disconnected', reason: 'mailbox login refused: invalid credentials' });
    const { status, html } = await page(dashboard.url);
    expect(status).toBe(200);
    expect(html).toContain('not connected: mailbox login refused: invalid credentials');
    expect(html).toContain('The link has expired or its passcode is no longer valid.');
    expect(html).toContain('Faspex package 11');
    expect(html).not.toContain(PASSCODE);
  });

  it('retries from the page; refuses a post without the form token or from another site', async () => {
    const { queue, dashboard } = await setup();
    await failedJob(queue, '12');
    const { csrf } = await page(dashboard.url);
    expect(csrf).not.toBe('');
    const path = '/packages/job-12/retry';
    expect((await post(dashboard.url, path, { back: '' })).status).toBe(403);
    expect((await post(dashboard.url, path, { csrf: `${csrf}x` })).status).toBe(403);
    expect((await post(dashboard.url, path, { csrf }, { origin: 'https://evil.example.net' })).status).toBe(403);
    expect((await post(dashboard.url, path, { csrf }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(await (await queue.getJob('job-12'))!.getState()).toBe('failed');

    const ok = await post(dashboard.url, path, { csrf, back: '?show=failed' }, { origin: dashboard.url.replace(/\/$/, ''), 'sec-fetch-site': 'same-origin' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/?show=failed&notice=retried');
    expect(await (await queue.getJob('job-12'))!.getState()).toBe('waiting');
    // a redirect only ever goes back to this page, whatever `back` says
    const sneaky = await post(dashboard.url, '/packages/job-12/remove', { csrf, back: '//evil.example.net/' });
    expect(sneaky.headers.get('location')).toBe('/?notice=removed');
    expect(await queue.getJob('job-12')).toBeUndefined();
  });

  it('will not remove a package while it downloads', async () => {
    const { queue, dashboard } = await setup();
    await queue.add('Faspex package 13', data('13'), { jobId: 'job-13' });
    let release!: () => void;
    const worker = new Worker(queue.name, () => new Promise<void>((r) => (release = r)), { connection: shared.redis.duplicate(), prefix: queue.opts.prefix! });
    cleanups.push(async () => {
      release?.();
      // force: the waiting package beside it would be picked up next and never end
      await worker.close(true);
    });
    await waitFor(async () => (await (await queue.getJob('job-13'))?.getState()) === 'active', { what: 'the job to be active' });
    // a waiting package beside it, so the page has a form (and its token)
    await queue.add('Faspex package 15', data('15'), { jobId: 'job-15' });
    const { html, csrf } = await page(dashboard.url);
    expect(html).not.toContain('action="/packages/job-13/remove"');
    const res = await post(dashboard.url, '/packages/job-13/remove', { csrf });
    expect([res.status, res.headers.get('location'), res.status === 303 ? '' : await res.text()]).toEqual([303, '/?notice=busy', '']);
    expect(await (await queue.getJob('job-13'))!.getState()).toBe('active');
  });

  it('read-only: no buttons, and posts are refused', async () => {
    const { queue, dashboard } = await setup(true);
    await failedJob(queue, '14');
    const { html } = await page(dashboard.url);
    expect(html).toContain('Faspex package 14');
    expect(html).not.toMatch(/<form method="post"/);
    // the token of a writable dashboard with the same password would be this one
    const writable = await setup(false);
    const { csrf } = await page(writable.dashboard.url);
    expect((await post(dashboard.url, '/packages/job-14/retry', { csrf })).status).toBe(405);
    expect(await (await queue.getJob('job-14'))!.getState()).toBe('failed');
  });
});
