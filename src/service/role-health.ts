/**
 * /healthz for a process, from the roles it runs: local roles report their own health; when
 * the workers run in another process, the number of workers connected to the queue (seen
 * through Redis) stands in for them.
 */
import { createHealthCheck, redisPingProbe, type HealthReport, type Probe } from './health.js';
import type { Role } from './role.js';
import type { ServiceContext } from './service-context.js';

export function healthOfRoles(ctx: ServiceContext, roles: readonly Role[]): () => Promise<HealthReport> {
  const local = (name: Role['name']) => roles.find((r) => r.name === name);
  const fromRole = (role: Role): Probe => async () => {
    const h = await role.health();
    if (!h.ok) throw new Error(h.detail ?? `${role.name} is not healthy`);
    return h.detail;
  };
  const listener = local('listener');
  const downloader = local('downloader');
  return createHealthCheck({
    // the context's connection was ready at start; a fresh one may still be connecting (and,
    // with no offline queue, would fail the first probes)
    redis: redisPingProbe(ctx.redis),
    listener: listener ? fromRole(listener) : undefined,
    workers: downloader
      ? fromRole(downloader)
      : async () => {
          const n = await ctx.queues.downloads.getWorkersCount();
          if (n === 0) throw new Error('no download worker is connected to the queue');
          return `${n} worker connection(s) on the queue`;
        },
  });
}
