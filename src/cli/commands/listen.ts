import { serviceCommand } from '../service-command.js';

export const listenCommand = serviceCommand({
  name: 'listen',
  roles: ['listener'],
  summary: 'only the IMAP listener (mail in, jobs out)',
  help: 'Needs IMAP_* and FASPEX_ALLOWED_HOSTS; queues into REDIS_URL, or the Redis of a `run` on this machine.',
});
