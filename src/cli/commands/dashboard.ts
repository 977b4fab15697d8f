import { notBuiltYet } from '../command.js';

export const dashboardCommand = notBuiltYet('dashboard', 'only the HTTP side: queue dashboard, /healthz, /metrics', '');
