/**
 * The packages page's HTTP side, mounted behind the dashboard's login: the page at `/`, its live
 * feed, its assets, and retry/remove (POST, refused in read-only mode).
 *
 * Cross-site requests: a browser sends the basic-auth login with any request to this origin, so
 * a state-changing POST must prove it came from this page: a form token (an HMAC derived from the
 * dashboard password, or from a per-process random key without one, so every dashboard process
 * behind one login accepts the same token) AND, when the browser says where it comes from
 * (Origin, Sec-Fetch-Site), the same origin.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import type { Queue } from 'bullmq';
import type { InboxStatus } from '../../mail/inbox-status.js';
import { maskText } from '../../log/secrets.js';
import type { Logger } from '../../log/logger.js';
import type { DownloadJobData } from '../../queue/queues.js';
import { PACKAGES_CSS, PACKAGES_JS } from './assets.js';
import { ASSETS, renderPage, type RenderContext } from './html.js';
import { dropFromIndex } from '../../queue/package-index.js';
import { indexSweeper } from './index-sweep.js';
import { serveLive } from './live.js';
import { cachedSource, loadPackagesView } from './source.js';
import { parsePageQuery, type PageQuery } from './view-model.js';

export interface PackagesRouterOptions {
  queue: Queue<DownloadJobData>;
  inboxes: () => Promise<InboxStatus[]>;
  readOnly: boolean;
  /** the dashboard password, when there is one: the form token is derived from it */
  password?: string | undefined;
  /** how often the live feed re-reads (default 2 s) */
  liveIntervalMs?: number;
  /** reads of the queue this recent are shared by every open page (default 1 s) */
  viewCacheMs?: number;
  /** how often, at most, the packages index is swept while pages are read (default 5 min) */
  indexSweepMs?: number;
  logger: Logger;
}

const NOTICES: Record<string, string> = {
  retried: 'The package was sent back to the queue.',
  removed: 'The package was removed from the queue (files already on disk stay).',
  gone: 'That package is no longer in the queue.',
  busy: 'That package is downloading right now; it can be removed once it stops.',
  'not-failed': 'Only a failed package can be retried.',
  trouble: 'The queue could not be reached (Redis), so nothing may have changed; the list shows what the queue holds now.',
};

export function packagesRouter(options: PackagesRouterOptions): Router {
  const { queue, logger } = options;
  const sweeper = indexSweeper(queue, logger, options.indexSweepMs ?? 5 * 60_000);
  const source = cachedSource({ queue, inboxes: options.inboxes, cacheMs: options.viewCacheMs ?? 1000, sweeper });
  const key = options.password ? createHmac('sha256', 'faspex-ingest dashboard form token').update(options.password).digest() : randomBytes(32);
  const csrf = createHmac('sha256', key).update('packages').digest('base64url');
  const boardHref = `/queue/${encodeURIComponent(queue.name)}`;
  const context = (query: PageQuery): RenderContext => ({ query, readOnly: options.readOnly, csrf, now: new Date(), boardHref });
  const router = Router();

  router.get(`${ASSETS}/packages.css`, (_req, res) => void res.type('text/css').set('Cache-Control', 'no-cache').send(PACKAGES_CSS));
  router.get(`${ASSETS}/packages.js`, (_req, res) => void res.type('text/javascript').set('Cache-Control', 'no-cache').send(PACKAGES_JS));

  router.get('/', async (req, res) => {
    const query = parsePageQuery(req.query);
    const view = await loadPackagesView(source, query).catch((err: unknown) => {
      logger.warn({ err }, 'packages page: read failed');
    });
    pageHeaders(res);
    // The page is the dashboard's home: a person reads a sentence here, not the JSON 500 of the API.
    if (!view) return void res.status(503).type('text/plain').send('The packages page cannot read the queue right now (is Redis reachable?); reload in a moment.\n');
    const notice = typeof req.query.notice === 'string' ? NOTICES[req.query.notice] : undefined;
    res.type('html').send(maskText(renderPage(view, context(query), notice)));
  });

  // Every open page's feed fails on each tick while Redis is down: at most one warning per 30 s
  // for all of them, not one per page per tick.
  const liveIntervalMs = options.liveIntervalMs ?? 2000;
  let lastLiveWarn = 0;
  const liveError = (err: unknown) => {
    const now = Date.now();
    if (now - lastLiveWarn < Math.max(30_000, liveIntervalMs)) return;
    lastLiveWarn = now;
    logger.warn({ err }, 'packages live feed: read failed (open pages say "live updates interrupted" and keep retrying)');
  };
  router.get('/packages/live', (req, res) => {
    serveLive(req, res, parsePageQuery(req.query), { source, intervalMs: liveIntervalMs, context, onError: liveError });
  });

  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const action = (what: 'retry' | 'remove') => [
    form,
    async (req: Request, res: Response) => {
      if (options.readOnly) return void res.status(405).type('text/plain').send('the dashboard is read-only (DASHBOARD_READ_ONLY)\n');
      if (!sameOrigin(req) || !tokenOk((req.body as { csrf?: unknown } | undefined)?.csrf, csrf)) {
        return void res.status(403).type('text/plain').send('refused: this request did not come from the packages page\n');
      }
      const id = String(req.params.id ?? '');
      const notice = await act(queue, id, what).catch(async (err: unknown) => {
        logger.warn({ err, jobId: id, what }, 'packages page action failed');
        // "gone" only when the job really vanished meanwhile; Redis trouble is not "no such package"
        const still = await queue.getJob(id).then((job) => (job ? 'there' : 'gone'), () => 'unknown');
        return still === 'gone' ? 'gone' : 'trouble';
      });
      source.invalidate();
      logger.info({ jobId: id, what, notice }, 'packages page action');
      const back = backQuery((req.body as { back?: unknown }).back);
      res.redirect(303, `/${back}${back ? '&' : '?'}notice=${notice}`);
    },
  ];
  router.post('/packages/:id/retry', ...action('retry'));
  router.post('/packages/:id/remove', ...action('remove'));
  return router;
}

async function act(queue: Queue<DownloadJobData>, id: string, what: 'retry' | 'remove'): Promise<keyof typeof NOTICES> {
  const job = await queue.getJob(id);
  if (!job) return 'gone';
  const state = await job.getState();
  if (what === 'retry') {
    if (state !== 'failed') return 'not-failed';
    await job.retry('failed');
    return 'retried';
  }
  if (state === 'active') return 'busy';
  await job.remove();
  await dropFromIndex(queue, [id]);
  return 'removed';
}

function pageHeaders(res: Response): void {
  res.set({
    'Cache-Control': 'no-store',
    // nothing but this origin's own stylesheet, script and feed; forms post only here
    'Content-Security-Policy': "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  });
}

/**
 * Sec-Fetch-Site and Origin, where the browser sends them, say same origin. `Origin: null` is
 * what Chromium sends for a form post under `Referrer-Policy: no-referrer` (set on every page
 * here): it says nothing, so Sec-Fetch-Site and the token decide.
 */
function sameOrigin(req: Pick<Request, 'get'>): boolean {
  const site = req.get('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.get('origin');
  if (!origin || origin === 'null') return true;
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}

function tokenOk(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Only a query string of our own making goes into the redirect: never a URL elsewhere. */
function backQuery(value: unknown): string {
  const s = typeof value === 'string' ? value : '';
  return /^\?[A-Za-z0-9_.~%+=&,-]*$/.test(s) && s.length < 600 ? s : '';
}
