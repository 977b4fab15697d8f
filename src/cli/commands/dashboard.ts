import { serviceCommand } from '../service-command.js';

export const dashboardCommand = serviceCommand({
  name: 'dashboard',
  roles: ['dashboard'],
  summary: 'only the HTTP side: queue dashboard, /healthz, /metrics',
  help: 'Listens on DASHBOARD_HOST:DASHBOARD_PORT; basic auth with DASHBOARD_USER/DASHBOARD_PASSWORD.',
});
