/**
 * The machine-facing endpoints: /healthz for orchestrators and load balancers, /metrics for
 * Prometheus. Both sit outside the login (scrapers and probes carry no credentials) and both are
 * built to show nothing secret: health details are masked, metrics hold counts and queue names.
 */
import { Router } from 'express';
import type { Logger } from '../log/logger.js';
import { httpStatusOf, type HealthReport } from '../service/health.js';
import type { Metrics } from '../service/metrics.js';

export function healthRouter(health: () => Promise<HealthReport>, logger: Logger): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    try {
      const report = await health();
      if (report.status !== 'ok') logger.warn({ health: report }, 'health check not ok');
      res.status(httpStatusOf(report)).json(report);
    } catch (err) {
      // A health function that throws is a bug, but the answer must still be an honest "down".
      logger.error({ err }, 'health check failed');
      res.status(503).json({ status: 'down', error: 'health check failed; see the logs' });
    }
  });
  return router;
}

/**
 * BullMQ's own `queue.exportPrometheusMetrics()` is not appended: its `bullmq_job_count` repeats
 * `faspex_ingest_jobs`, it writes HELP/TYPE lines once per queue (invalid exposition with more
 * than one queue), and its completed/failed counters stay 0 unless workers enable BullMQ metrics.
 */
export function metricsRouter(metrics: Metrics, logger: Logger): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    try {
      const text = await metrics.registry.metrics();
      res.set('Content-Type', metrics.registry.contentType).set('Cache-Control', 'no-store').send(text);
    } catch (err) {
      logger.error({ err }, 'metrics collection failed');
      res.status(500).type('text/plain').send('metrics collection failed; see the logs\n');
    }
  });
  return router;
}
