/**
 * bull-board as a person sees it: headless Debian Chromium behind the basic-auth login, a
 * queued and a completed download on screen, their passcodes masked, and a screenshot.
 * (The packages page has its own: dashboard-packages-browser.test.ts.)
 * UPDATE_DASHBOARD_PNG=1 also writes docs/dashboard.png for the README.
 */
import { existsSync, statSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/index.js';
import { createLogger } from '../../src/log/logger.js';
import { JOB, QUEUE } from '../../src/queue/queues.js';
import { createHealthCheck, queuePingProbe } from '../../src/service/health.js';
import { createMetrics } from '../../src/service/metrics.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

const USER = 'ops';
const PASSWORD = 'browser-test-password';
const PASSCODES = ['a'.repeat(8) + 'b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6', 'f'.repeat(8) + '0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d'];

function data(id: string, passcode: string, subject: string) {
  return {
    link: `https://fx.example.com/aspera/faspex/external_deliveries/${id}?passcode=${passcode}`,
    kind: 'faspex4-external',
    server: 'fx.example.com',
    packageId: id,
    source: { type: 'mail', mailbox: 'INBOX', uid: Number(id), subject, from: 'faspex@fx.example.com' },
    queuedAt: new Date().toISOString(),
  };
}

let connection: Redis;
let queue: Queue;
let dashboard: RunningDashboard | undefined;
let browser: Browser | undefined;
const shots = tempDir('dashboard-shots');

beforeAll(() => {
  // Fail, never skip: a missing browser would otherwise pass CI without testing anything.
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}; install it with: apt-get install -y chromium`);
  connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  // The real queue name (it is what the screenshot shows), isolated by a prefix of its own.
  queue = new Queue(QUEUE.downloads, { connection, prefix: uniqueName('browser') });
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  await connection?.quit();
  shots.remove();
});

it('shows a waiting and a completed download behind the login, passcodes masked', async () => {
  // One package finished by a real worker, then one left waiting once the worker is gone.
  const done = await queue.add(JOB.download, data('1041', PASSCODES[0]!, 'Faspex package: Q3 rushes'), { jobId: 'faspex4-external-fx.example.com-1041' });
  const worker = new Worker(queue.name, async () => ({ folder: 'fx.example.com_1041_Q3 rushes', files: 12, bytes: 7_340_032_000 }), { connection, prefix: queue.opts.prefix! });
  try {
    await waitFor(async () => (await done.getState()) === 'completed', { what: 'the first job to complete' });
  } finally {
    await worker.close();
  }
  await queue.add(JOB.download, data('1042', PASSCODES[1]!, 'Faspex package: final mix'), { jobId: 'faspex4-external-fx.example.com-1042' });

  const metrics = createMetrics({ defaultMetrics: false });
  dashboard = await startDashboard({
    queues: [queue],
    config: { host: '127.0.0.1', port: 0, user: USER, password: PASSWORD, readOnly: true },
    metrics,
    health: createHealthCheck({ redis: queuePingProbe(queue) }),
    logger: createLogger({ level: 'silent' }),
  });

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD }, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();

  // Without credentials the browser gets the 401 challenge, not the board (headless Chromium
  // has nobody to ask, so it abandons the navigation rather than showing the 401 page).
  const anonymous = await browser.newContext();
  const refused = await (await anonymous.newPage()).goto(dashboard.url).then((r) => String(r?.status()), (e: Error) => e.message);
  expect(refused).toMatch(/^401$|ERR_INVALID_AUTH_CREDENTIALS/);
  await anonymous.close();

  // Home is the packages page; bull-board keeps its queue pages.
  const home = await page.goto(dashboard.url);
  expect(home?.status()).toBe(200);
  await page.locator('tr[data-id="faspex4-external-fx.example.com-1042"]').waitFor();

  await page.goto(new URL(`queue/${encodeURIComponent(queue.name)}`, dashboard.url).href);
  await page.getByText('faspex4-external-fx.example.com-1042').first().waitFor();
  await page.getByText('faspex4-external-fx.example.com-1041').first().waitFor();
  await page.getByText('passcode=***').first().waitFor();

  const html = await page.content();
  for (const passcode of PASSCODES) expect(html.includes(passcode), 'the page shows a passcode').toBe(false);

  // The latest view, both jobs on screen.
  const file = join(shots.path, 'dashboard.png');
  await page.screenshot({ path: file, fullPage: false });
  expect(statSync(file).size).toBeGreaterThan(10_000);
  if (process.env.UPDATE_DASHBOARD_PNG === '1') await copyFile(file, new URL('../../docs/dashboard.png', import.meta.url));

  // Each job in its state's tab: the finished one under Completed, the other under Waiting.
  const tab = async (status: string, shown: string, hidden: string) => {
    await page.goto(new URL(`queue/${encodeURIComponent(queue.name)}?status=${status}`, dashboard!.url).href);
    await page.getByText(shown).first().waitFor();
    expect(await page.getByText(hidden).count(), `${hidden} under ${status}`).toBe(0);
  };
  await tab('completed', 'faspex4-external-fx.example.com-1041', 'faspex4-external-fx.example.com-1042');
  await tab('waiting', 'faspex4-external-fx.example.com-1042', 'faspex4-external-fx.example.com-1041');
});
