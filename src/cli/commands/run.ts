import { serviceCommand } from '../service-command.js';

export const runCommand = serviceCommand({
  name: 'run',
  roles: ['listener', 'downloader', 'dashboard'],
  summary: 'everything in one process: mail listener, download workers, dashboard',
  help: 'Starts a local redis-server (data in DATA_DIR/redis) when REDIS_URL is unset. `npm start` runs this.',
});
