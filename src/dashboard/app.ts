/**
 * The dashboard process's HTTP side behind basic auth: the packages page at `/` (its home),
 * bull-board for queue internals at `/queue/<name>` and its API, plus /healthz and /metrics.
 */
import express from 'express';
import type { Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import type { InboxStatus } from '../mail/inbox-status.js';
import { QUEUE, type DownloadJobData } from '../queue/queues.js';
import type { Logger } from '../log/logger.js';
import type { HealthReport } from '../service/health.js';
import type { Metrics } from '../service/metrics.js';
import { dashboardAuth } from './auth.js';
import { maskJsonResponses } from './mask.js';
import { packagesRouter } from './packages/routes.js';
import { healthRouter, metricsRouter } from './routes.js';

export interface DashboardOptions {
  queues: readonly Queue[];
  config: Config['dashboard'];
  metrics: Metrics;
  health: () => Promise<HealthReport>;
  logger: Logger;
  /** every inbox's health (src/mail/inbox-status.ts), for the top of the packages page */
  inboxes?: () => Promise<InboxStatus[]>;
  /** how often the packages page's live feed re-reads (default 2 s) */
  liveIntervalMs?: number;
  /** reads of the queue this recent are shared by every open packages page (default 1 s) */
  viewCacheMs?: number;
  /** how often, at most, the packages index is swept while pages are read (default 5 min) */
  indexSweepMs?: number;
}

export function createDashboardApp(options: DashboardOptions): express.Express {
  const { queues, config, metrics, health, logger } = options;
  // Throws before anything listens when a login is required and missing.
  const auth = dashboardAuth(config);
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    res.set('X-Frame-Options', 'DENY');
    res.set('Referrer-Policy', 'no-referrer');
    next();
  });

  // Registered before the login, and before the board so its catch-all page cannot shadow them.
  app.use(healthRouter(health, logger));
  app.use(metricsRouter(metrics, logger));

  if (auth) app.use(auth);
  app.use(maskJsonResponses);
  // Before the board, so `/` is the packages page; the board keeps /queue/<name> and /api.
  const downloads = (queues.find((q) => q.name === QUEUE.downloads) ?? queues[0]) as Queue<DownloadJobData> | undefined;
  if (downloads) {
    app.use(packagesRouter({ queue: downloads, inboxes: options.inboxes ?? (async () => []), readOnly: config.readOnly, password: config.password, liveIntervalMs: options.liveIntervalMs, viewCacheMs: options.viewCacheMs, indexSweepMs: options.indexSweepMs, logger }));
  }
  app.use(lazyBoard(queues, config.readOnly));

  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    logger.error({ err }, 'dashboard request failed');
    if (!res.headersSent) res.status(500).json({ error: 'internal error; see the logs' });
  });
  return app;
}

/**
 * bull-board (its API, UI routes and templates: ~10 MB of a process's memory) loads with the
 * first request that reaches it, not at start: a `run` nobody looks at does not carry it, and
 * /healthz and /metrics never load it.
 */
function lazyBoard(queues: readonly Queue[], readOnly: boolean): express.RequestHandler {
  let board: Promise<express.Router> | undefined;
  const load = () =>
    (board ??= import('./board.js').then(
      ({ boardRouter }) => boardRouter(queues, { readOnly }),
      (e: unknown) => {
        board = undefined;
        throw e;
      },
    ));
  return (req, res, next) => {
    load().then((router) => {
      try {
        router(req, res, next);
      } catch (e) {
        next(e);
      }
    }, next);
  };
}
