/**
 * What every process role shares: config, logger, the Redis target, one producer connection,
 * the queues and the metrics. Opened once per process, closed last.
 */
import { Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { checkEvictionPolicy, waitReady, type RedisClient } from '../queue/connection.js';
import { QUEUE, type DownloadJobData, type HandoffJobData, type NotifyJobData } from '../queue/queues.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { RedisTarget } from './redis-target.js';

export interface ServiceQueues {
  downloads: Queue<DownloadJobData>;
  notifications: Queue<NotifyJobData>;
  handoffs: Queue<HandoffJobData>;
}

export interface ServiceContext {
  config: Config;
  logger: Logger;
  target: RedisTarget;
  queues: ServiceQueues;
  metrics: Metrics;
  /** the shared producer connection, ready since start-up (health checks ping it) */
  redis: RedisClient;
  /** a new connection for a role that blocks (workers, the listener's state); closed with the context */
  connect(role: 'producer' | 'worker'): RedisClient;
  close(): Promise<void>;
}

export async function openServiceContext(config: Config, logger: Logger, target: RedisTarget, metrics: Metrics = createMetrics()): Promise<ServiceContext> {
  const opened: RedisClient[] = [];
  const connect = (role: 'producer' | 'worker') => {
    const c = target.connect(role);
    c.on('error', (err) => logger.debug({ err: err.message, role }, 'redis connection error'));
    opened.push(c);
    return c;
  };
  const producer = connect('producer');
  try {
    await waitReady(producer, 10_000, target.description);
    // before any job is queued or taken: a Redis that may evict keys loses packages
    const eviction = await checkEvictionPolicy(producer, target.description);
    if (eviction.note) logger.warn(eviction.note);
  } catch (e) {
    producer.disconnect();
    throw e;
  }
  const queueOptions = { connection: producer, prefix: config.redis.prefix };
  const queues: ServiceQueues = {
    downloads: new Queue<DownloadJobData>(QUEUE.downloads, queueOptions),
    notifications: new Queue<NotifyJobData>(QUEUE.notifications, queueOptions),
    handoffs: new Queue<HandoffJobData>(QUEUE.handoffs, queueOptions),
  };
  for (const q of Object.values(queues)) q.on('error', (err: Error) => logger.warn({ err: err.message, queue: q.name }, 'queue error'));
  metrics.watchQueues(Object.values(queues));
  metrics.watchState({ inboxes: { redis: producer, prefix: config.redis.prefix }, downloadDir: config.downloads.dir });

  return {
    config,
    logger,
    target,
    queues,
    metrics,
    redis: producer,
    connect,
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close()));
      await Promise.all(opened.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
