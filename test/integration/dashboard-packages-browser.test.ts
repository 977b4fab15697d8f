/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
/**
 * The packages page in Debian's headless Chromium, against packages made the real way
 * (test/support/dashboard-scene.ts): one row per state with titles, senders and sizes, a
 * progress bar that moves during a slowed stand-in transfer, retry from the page, no passcode in
 * the page or in any request or response it makes, readable without JavaScript, and usable at
 * 1280 and 390 pixels wide.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
import { startScene, type Scene } from '../support/dashboard-scene.js';
import { tempDir, waitFor } from '../support/temp.js';

const USER = 'ops';
const PASSWORD = 'packages-browser-password';
const dir = tempDir('pkg-browser');
let scene: Scene;
let browser: Browser;
/** every URL, request body and (non-streaming) response body the browser saw */
const traffic: string[] = [];

beforeAll(async () => {
  // Fail, never skip: a missing browser would otherwise pass CI without testing anything.
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}; install it with: apt-get install -y chromium`);
  // ~10 MB at 100 kB/s (over a minute and a half): the transfer outlasts the tests, so it is always mid-way
  scene = await startScene({ redisUrl: inject('redisUrl'), dir: dir.path, user: USER, password: PASSWORD, rateBps: 100_000, liveIntervalMs: 300 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await scene?.close();
  dir.remove();
});

async function open(width: number, options: { javaScript?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD }, viewport: { width, height: 900 }, javaScriptEnabled: options.javaScript ?? true });
  const page = await context.newPage();
  page.on('request', (req) => traffic.push(`${req.method()} ${req.url()} ${req.postData() ?? ''} ${JSON.stringify(req.headers())}`));
  page.on('response', async (res) => {
    traffic.push(`${res.status()} ${res.url()} ${JSON.stringify(await res.allHeaders())}`);
    if ((res.headers()['content-type'] ?? '').includes('event-stream')) return; // never ends; read below
    traffic.push(await res.text().catch(() => ''));
  });
  await page.goto(scene.url);
  return { context, page };
}

const row = (page: Page, id: string) => page.locator(`tr[data-id="${id}"]`);

describe('the packages page', () => {
  it('lists a package in each state with its title, sender, server and size, and the inbox as connected', async () => {
    const { context, page } = await open(1280);
    const expectRow = async (id: string, state: string, title: RegExp, sender: RegExp) => {
      const r = row(page, id);
      await r.waitFor();
      expect(await r.getAttribute('class')).toContain(`st-${state}`);
      expect(await r.locator('.title').innerText()).toMatch(title);
      expect(await r.locator('.sender').innerText()).toMatch(sender);
      expect(await r.locator('.c-server').innerText()).toBe(new URL(scene.packages.done.links.external).host);
    };
    await expectRow(scene.ids.done, 'done', /^Trailer v3 — final grade$/, /maya\.chen@northlight\.example/);
    await expectRow(scene.ids.failed, 'failed', /Lab results 2026-11/, /Lab results/);
    await expectRow(scene.ids.downloading, 'downloading', /^Agency deck and cut-downs$/, /tom@agency\.example\.com/);
    await expectRow(scene.ids.waiting, 'waiting', /^Faspex package: Q4 dailies, reel 12$/, /On-set DIT/);
    expect(await row(page, scene.ids.done).locator('.c-size').innerText()).toBe('2.3 MB');
    expect(await row(page, scene.ids.done).locator('.c-folder').innerText()).toMatch(/Trailer v3 — final grade$/);
    expect(await row(page, scene.ids.failed).locator('.failure .headline').innerText()).toBe('The link has expired or its passcode is no longer valid.');
    expect(await page.locator('.inbox').innerText()).toMatch(/ingest@mail\.example\.com\/INBOX\s+connected · IDLE/);
    // newest first
    expect(await page.locator('tr.row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual([scene.ids.waiting, scene.ids.downloading, scene.ids.failed, scene.ids.done]);
    // bull-board is one click away, at its own path
    await page.getByRole('link', { name: /Queue internals/ }).click();
    await page.waitForURL(/\/queue\/downloads$/);
    await context.close();
  });

  it('moves the progress bar of the transfer without a reload, with bytes, rate and ETA', async () => {
    const { context, page } = await open(1280);
    const bar = row(page, scene.ids.downloading).locator('progress');
    await bar.waitFor();
    const first = Number(await bar.getAttribute('value'));
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    // the live feed replaces the table: wait for a larger value (deadline, no fixed sleep)
    await page.waitForFunction(
      ([id, v]) => Number(document.querySelector(`tr[data-id="${id}"] progress`)?.getAttribute('value')) > v,
      [scene.ids.downloading, first] as const,
      { timeout: 20_000 },
    );
    expect(navigations).toBe(0);
    expect(Number(await bar.getAttribute('max'))).toBe(scene.packages.downloading.totalBytes);
    expect(await row(page, scene.ids.downloading).locator('.prog-text').innerText()).toMatch(/^\d+% · [\d.]+ [KM]B of 9\.7 MB · [\d.]+ [KM]B\/s · .+ left$/);
    await context.close();
  });

  it('retries a failed package from the page', async () => {
    const { context, page } = await open(1280);
    scene.sim.fault(scene.packages.failed, null);
    await row(page, scene.ids.failed).getByRole('button', { name: 'Retry' }).click();
    await page.getByText('The package was sent back to the queue.').waitFor();
    // the worker is busy with the slow transfer, so it waits its turn
    await waitFor(async () => (await (await scene.queue.getJob(scene.ids.failed))?.getState()) === 'waiting', { what: 'the retried job to wait' });
    await page.waitForFunction((id) => document.querySelector(`tr[data-id="${id}"]`)?.classList.contains('st-waiting'), scene.ids.failed, { timeout: 10_000 });
    await context.close();
  });

  it('reads without JavaScript', async () => {
    const { context, page } = await open(1280, { javaScript: false });
    expect(await page.locator('tr.row').count()).toBe(4);
    expect(await row(page, scene.ids.downloading).locator('progress').count()).toBe(1);
    await context.close();
  });

  for (const width of [1280, 390]) {
    it(`is usable at ${width} px: no horizontal overflow, filters and buttons within reach`, async () => {
      const { context, page } = await open(width);
      await row(page, scene.ids.downloading).waitFor();
      const overflow = await page.evaluate(() => {
        const table = document.querySelector('.table-wrap')!;
        return { page: document.documentElement.scrollWidth - document.documentElement.clientWidth, table: table.scrollWidth - table.clientWidth };
      });
      expect(overflow, 'horizontal overflow in px (the page, and the table inside its frame)').toEqual({ page: 0, table: 0 });
      // Measured in one go in the page: the live feed may replace the table between two calls.
      const reach = (selector: string) =>
        page.evaluate((sel) => {
          const el = document.querySelector(sel);
          if (!el) return null;
          el.scrollIntoView({ block: 'center', inline: 'nearest' });
          const r = el.getBoundingClientRect();
          return { left: r.left, right: r.right, height: r.height };
        }, selector);
      for (const selector of ['.filters button[type=submit]', '.filters input[type=search]', `tr[data-id="${scene.ids.waiting}"] .c-actions button`]) {
        const box = await reach(selector);
        expect(box, selector).not.toBeNull();
        expect(box!.left, `${selector}: left edge`).toBeGreaterThanOrEqual(0);
        expect(box!.right, `${selector}: right edge`).toBeLessThanOrEqual(width);
        expect(box!.height, `${selector}: tall enough to tap`).toBeGreaterThanOrEqual(30);
      }
      // the search works from here
      await page.getByRole('searchbox').fill('agency');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/q=agency/);
      expect(await page.locator('tr.row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual([scene.ids.downloading]);
      await context.close();
    });
  }

  it('never shows a passcode: not in the page, its requests, its responses or its live feed', async () => {
    const { context, page } = await open(1280);
    await row(page, scene.ids.downloading).waitFor();
    // bull-board's pages and API are part of the same dashboard
    await page.goto(new URL(`queue/downloads`, scene.url).href);
    await page.getByText(/Agency deck/).first().waitFor();
    const html = await page.content();
    // the live feed, read directly: a few events' worth
    const feed = await fetch(new URL('packages/live', scene.url), { headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } });
    const reader = feed.body!.getReader();
    let events = '';
    while ((events.match(/event: update/g) ?? []).length < 2) events += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(events).toContain('Agency deck');
    expect(traffic.length).toBeGreaterThan(10);
    for (const passcode of scene.passcodes) {
      expect(html.includes(passcode), 'a passcode in the page').toBe(false);
      expect(events.includes(passcode), 'a passcode in the live feed').toBe(false);
      expect(traffic.filter((t) => t.includes(passcode)), 'a passcode in the traffic').toEqual([]);
    }
    await context.close();
  });
});
