/**
 * Starts the roles a command asks for and keeps them running until a signal. `run` is all
 * three in one process (with a local Redis when REDIS_URL is unset); `listen`, `work` and
 * `dashboard` are one role each, for deployments that scale them apart.
 */
import { environmentWithDotenv, loadServiceConfig, type Config, type Role as ConfigRole } from '../config/config.js';
import { chooseLogFormat, createLogger, type Logger } from '../log/logger.js';
import type { DownloaderOptions } from '../../workers/downloader.js';
import type { CliIo } from '../cli/command.js';
import { startOpsServer } from '../dashboard/ops-server.js';
import { healthOfRoles } from './role-health.js';
import { connectRedisTarget, startOrConnectRedis, type RedisTarget } from './redis-target.js';
import type { Role } from './role.js';
import { openServiceContext, type ServiceContext } from './service-context.js';
import { installShutdown, type Stoppable } from './shutdown.js';

export type RoleName = Role['name'];

export interface RunningService {
  ctx: ServiceContext;
  roles: Role[];
  /** resolves when the service has stopped (after a signal or stop()) */
  done: Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  downloader?: DownloaderOptions;
  /** called once everything is up; `run` prints where the dashboard is */
  onReady?: (service: RunningService) => void;
  logger?: Logger;
}

export function configFor(io: CliIo, role: ConfigRole): Promise<Config> {
  return loadServiceConfig(environmentWithDotenv(io.env, io.cwd), role, io.cwd);
}

export async function startService(config: Config, command: ConfigRole, names: RoleName[], options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'faspex-ingest', format: chooseLogFormat(config.logFormat, process.stderr.isTTY === true) });
  if (config.faspex.insecureTls) logger.warn('FASPEX_INSECURE_TLS=true: Faspex server certificates are NOT checked');

  const target: RedisTarget = command === 'run' || command === 'demo' ? await startOrConnectRedis(config, (message, fields) => logger.warn(fields, message)) : await connectRedisTarget(config);
  if (target.embedded) logger.info({ redis: target.description, pid: target.embedded.pid, stopsWithThisProcess: target.embedded.diesWithParent }, 'started a local redis-server (REDIS_URL is unset)');
  let ctx: ServiceContext;
  try {
    ctx = await openServiceContext(config, logger, target);
  } catch (e) {
    await target.embedded?.stop();
    throw e;
  }
  const roles: Role[] = [];
  const extraStops: Stoppable[] = [];
  // stop order: mail in first, then downloads, then the dashboard, then connections and Redis
  const stopOrder = (): Stoppable[] => [
    ...(['listener', 'downloader', 'dashboard'] as const).flatMap((n) => roles.filter((r) => r.name === n)),
    ...extraStops,
    { name: 'connections', stop: () => ctx.close() },
    ...(target.embedded ? [{ name: 'redis-server', stop: () => target.embedded!.stop() }] : []),
  ];
  const shutdown = installShutdown(stopOrder, logger);
  const service: RunningService = { ctx, roles, done: shutdown.done, stop: () => shutdown.trigger('stop requested') };

  try {
    // the downloader first: when ascp is missing, fail before any mail is read
    // Each role's modules load only when it starts: `listen` never loads express or execa.
    if (names.includes('downloader')) roles.push(await (await import('../../workers/downloader.js')).startDownloader(ctx, options.downloader));
    if (names.includes('listener')) roles.push(await (await import('../../workers/listener.js')).startListener(ctx));
    if (names.includes('dashboard')) roles.push(await (await import('../../workers/dashboard.js')).startDashboardRole(ctx, roles));
    else if (config.dashboard.metricsPort !== undefined) {
      const ops = await startOpsServer({ host: config.dashboard.host, port: config.dashboard.metricsPort, metrics: ctx.metrics, health: healthOfRoles(ctx, roles), logger });
      extraStops.push({ name: 'metrics endpoint', stop: () => ops.close() });
    }
  } catch (e) {
    await shutdown.trigger('start-up failed');
    throw e;
  }
  options.onReady?.(service);
  return service;
}
