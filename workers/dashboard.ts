/**
 * The HTTP role: bull-board, /healthz and /metrics. Entry for `faspex-ingest dashboard` and part
 * of `run`.
 *
 * Failure contract:
 * - Start-up fails when the port is taken or when it would listen beyond loopback without a
 *   login (DASHBOARD_USER/DASHBOARD_PASSWORD).
 * - A Redis outage does not stop it: /healthz answers 503 `down` until Redis is back, and the
 *   board shows errors instead of jobs.
 * - Roles in the same process (listener, workers) report their own health; when the workers
 *   run elsewhere, /healthz counts the workers connected to the queue through Redis instead.
 */
import { startDashboard } from '../src/dashboard/index.js';
import { createHealthCheck, redisPingProbe, type Probe } from '../src/service/health.js';
import type { Role } from '../src/service/role.js';
import type { ServiceContext } from '../src/service/service-context.js';

export interface DashboardRole extends Role {
  url: string;
}

export async function startDashboardRole(ctx: ServiceContext, localRoles: readonly Role[]): Promise<DashboardRole> {
  const pingClient = ctx.connect('producer');
  const local = (name: Role['name']) => localRoles.find((r) => r.name === name);
  const fromRole = (role: Role): Probe => async () => {
    const h = await role.health();
    if (!h.ok) throw new Error(h.detail ?? `${role.name} is not healthy`);
    return h.detail;
  };
  const listener = local('listener');
  const downloader = local('downloader');
  const health = createHealthCheck({
    redis: redisPingProbe(pingClient),
    imap: listener ? fromRole(listener) : undefined,
    workers: downloader
      ? fromRole(downloader)
      : async () => {
          const n = await ctx.queues.downloads.getWorkersCount();
          if (n === 0) throw new Error('no download worker is connected to the queue');
          return `${n} worker connection(s) on the queue`;
        },
  });
  const dashboard = await startDashboard({
    queues: Object.values(ctx.queues),
    config: ctx.config.dashboard,
    metrics: ctx.metrics,
    health,
    logger: ctx.logger.child({ role: 'dashboard' }),
  });
  return {
    name: 'dashboard',
    url: dashboard.url,
    stop: () => dashboard.close(),
    health: () => ({ ok: true }),
  };
}
