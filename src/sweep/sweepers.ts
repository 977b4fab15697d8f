/**
 * Every Faspex 5 box of FASPEX5_CLIENTS, one BoxSweeper each, in a process that reads mail
 * (`run`, `listen`): one session (token, HTTP client) per server, one queue connection per box
 * (the fenced enqueue WATCHes on it). Health: each box's last sweep, from this process's view.
 */
import { Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import { boxLabel } from '../faspex/faspex5-box-spec.js';
import { parseFaspex5Clients } from '../faspex/faspex5-clients.js';
import { Faspex5Session } from '../faspex/faspex5-session.js';
import { createFaspexHttp } from '../faspex/http.js';
import type { Logger } from '../log/logger.js';
import { downloadJobOptions } from '../queue/producer.js';
import { QUEUE, type DownloadJobData } from '../queue/queues.js';
import type { RedisClient } from '../queue/connection.js';
import { BoxSweeper } from './box-sweeper.js';
import type { Faspex5MailTrigger } from '../mail/types.js';
import { serversAsked } from './mail-trigger.js';
import { boxKey, SweepStore } from './sweep-store.js';

export interface Sweepers {
  readonly boxes: BoxSweeper[];
  /** for the mail readers: which mails ask for a sweep, and the ask written to Redis */
  readonly trigger: Faspex5MailTrigger;
  stop(): Promise<void>;
}

export function startSweepers(o: {
  config: Config;
  logger: Logger;
  connect: () => RedisClient;
  redis: RedisClient;
  onMissedByMail?: (server: string, count: number) => void;
}): Sweepers | undefined {
  const { config } = o;
  const clients = [...parseFaspex5Clients(config.faspex.faspex5Clients).values()];
  if (clients.length === 0) return undefined;
  const log = o.logger.child({ role: 'sweeper' });
  const http = createFaspexHttp(config.faspex, log);
  const store = new SweepStore(o.redis, config.redis.prefix);
  const queues: Queue<DownloadJobData>[] = [];
  const boxes = clients.flatMap((client) => {
    const session = new Faspex5Session({ http, client, logger: log, redis: o.redis, prefix: config.redis.prefix });
    const labels = client.boxes.map(boxLabel);
    return client.boxes.map((box) => {
      const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: o.connect(), prefix: config.redis.prefix });
      queue.on('error', (err: Error) => log.warn({ err: err.message }, 'queue error'));
      queues.push(queue);
      return new BoxSweeper({
        session, box, serverBoxes: labels, periodMs: (client.sweepSeconds ?? (config.faspex.faspex5SweepMs ?? 300_000) / 1000) * 1000,
        store, queue, jobOptions: downloadJobOptions(config.workers), redis: o.redis, prefix: config.redis.prefix, leaseMs: config.listener.leaseMs,
        logger: log, onMissedByMail: o.onMissedByMail,
      });
    });
  });
  const triggerServers = clients.map((c) => ({ server: c.server, senders: c.senders }));
  const labelsOf = new Map(clients.map((c) => [c.server, c.boxes.map(boxLabel)]));
  const trigger: Faspex5MailTrigger = {
    hosts: clients.map((c) => c.server),
    async request(decisions) {
      const servers = new Set(decisions.flatMap((d) => serversAsked(d, triggerServers)));
      if (servers.size === 0) return;
      await store.request([...servers].flatMap((s) => (labelsOf.get(s) ?? []).map((l) => boxKey(s, l))));
      log.info({ servers: [...servers] }, 'a mail asked for a sweep');
    },
  };
  for (const b of boxes) b.start();
  log.info({ boxes: boxes.map((b) => `${b.server} ${b.label}`) }, 'sweeping Faspex 5 boxes');
  return {
    boxes,
    trigger,
    async stop() {
      await Promise.all(boxes.map((b) => b.stop()));
      await Promise.all(queues.map((q) => q.close()));
      await http.close();
    },
  };
}
