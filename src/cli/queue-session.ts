/** For short-lived commands (status, enqueue): open the queues, do one thing, close. */
import { Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import { waitReady } from '../queue/connection.js';
import { QUEUE, type DownloadJobData, type HandoffJobData, type NotifyJobData } from '../queue/queues.js';
import { connectRedisTarget } from '../service/redis-target.js';

export interface QueueSession {
  downloads: Queue<DownloadJobData>;
  notifications: Queue<NotifyJobData>;
  handoffs: Queue<HandoffJobData>;
}

export async function withQueues<T>(config: Config, work: (s: QueueSession) => Promise<T>): Promise<T> {
  const target = await connectRedisTarget(config);
  const connection = target.connect('producer', { retryStrategy: () => null });
  connection.on('error', () => undefined);
  try {
    // waitReady's message names the server and the reason already ("Redis at … refused the connection: …")
    await waitReady(connection, 5000, target.description);
    const session: QueueSession = {
      downloads: new Queue<DownloadJobData>(QUEUE.downloads, { connection, prefix: config.redis.prefix }),
      notifications: new Queue<NotifyJobData>(QUEUE.notifications, { connection, prefix: config.redis.prefix }),
      handoffs: new Queue<HandoffJobData>(QUEUE.handoffs, { connection, prefix: config.redis.prefix }),
    };
    try {
      return await work(session);
    } finally {
      await Promise.all([session.downloads.close(), session.notifications.close(), session.handoffs.close()]);
    }
  } finally {
    await connection.quit().catch(() => connection.disconnect());
  }
}
