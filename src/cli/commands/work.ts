import { serviceCommand } from '../service-command.js';

export const workCommand = serviceCommand({
  name: 'work',
  roles: ['downloader'],
  summary: 'only the download workers',
  help: 'Runs WORKER_CONCURRENCY downloads at once. Start it on several machines with the same REDIS_URL and QUEUE_PREFIX.',
});
