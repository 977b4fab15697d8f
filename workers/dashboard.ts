/**
 * The HTTP role: the packages page (with every inbox's health), bull-board, /healthz and /metrics. Entry for `faspex-ingest dashboard` and part
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
import { readInboxStatuses } from '../src/mail/inbox-status.js';
import { healthOfRoles } from '../src/service/role-health.js';
import type { Role } from '../src/service/role.js';
import type { ServiceContext } from '../src/service/service-context.js';

export interface DashboardRole extends Role {
  url: string;
}

export async function startDashboardRole(ctx: ServiceContext, localRoles: readonly Role[]): Promise<DashboardRole> {
  const health = healthOfRoles(ctx, localRoles);
  const dashboard = await startDashboard({
    queues: Object.values(ctx.queues),
    config: ctx.config.dashboard,
    metrics: ctx.metrics,
    health,
    logger: ctx.logger.child({ role: 'dashboard' }),
    inboxes: () => readInboxStatuses(ctx.redis, ctx.config.redis.prefix),
  });
  return {
    name: 'dashboard',
    url: dashboard.url,
    stop: () => dashboard.close(),
    health: () => ({ ok: true }),
  };
}
