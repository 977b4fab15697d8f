/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser)
/**
 * Regenerates the README's dashboard screenshots (docs/dashboard-1280.png, docs/dashboard-390.png):
 * the packages page with a package in every state, one of them mid-transfer, in Debian's
 * headless Chromium at 1280 and 390 pixels wide. `npm run docs:screenshots`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startRedisServer } from '../src/service/redis-server.js';
import { startScene } from '../test/support/dashboard-scene.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/support/browser.js';

const WIDTHS = [
  { width: 1280, height: 860, file: 'docs/dashboard-1280.png' },
  { width: 390, height: 1400, file: 'docs/dashboard-390.png' },
];

const dir = mkdtempSync(join(tmpdir(), 'fi-shots-'));
const redis = await startRedisServer({ dir: join(dir, 'redis') });
const scene = await startScene({ redisUrl: redis.url, dir, user: 'ops', password: 'screenshot-password', rateBps: 120_000 });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
try {
  for (const w of WIDTHS) {
    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: 'screenshot-password' }, viewport: { width: w.width, height: w.height }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(scene.url);
    // one live update in, so the progress shows a rate and an ETA
    await page.waitForFunction(() => document.querySelector('.st-downloading .prog-text')?.textContent?.includes('left'), undefined, { timeout: 20_000 });
    await page.screenshot({ path: w.file, fullPage: w.width < 600 });
    await context.close();
    console.log(`wrote ${w.file}`);
  }
} finally {
  await browser.close();
  await scene.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
