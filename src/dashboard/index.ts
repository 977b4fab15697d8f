export { createDashboardApp, type DashboardOptions } from './app.js';
export { startDashboard, type RunningDashboard } from './server.js';
