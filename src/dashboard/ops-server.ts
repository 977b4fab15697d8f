/**
 * /healthz and /metrics alone, for `listen` and `work` processes when METRICS_PORT is set: in a
 * split deployment each process's counters must be scrapable where they are counted.
 */
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { HealthReport } from '../service/health.js';
import type { Metrics } from '../service/metrics.js';
import { healthRouter, metricsRouter } from './routes.js';

export async function startOpsServer(options: { host: string; port: number; metrics: Metrics; health: () => Promise<HealthReport>; logger: Logger }): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.use(healthRouter(options.health, options.logger));
  app.use(metricsRouter(options.metrics, options.logger));
  app.use((_req, res) => void res.status(404).type('text/plain').send('only /healthz and /metrics here\n'));
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, options.host);
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const url = `http://${options.host}:${(server.address() as AddressInfo).port}/`;
  options.logger.info({ url }, 'health and metrics endpoint listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
