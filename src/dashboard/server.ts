/**
 * Listening and stopping. Port 0 picks a free port (tests); the returned url is the real one.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDashboardApp, type DashboardOptions } from './app.js';

export interface RunningDashboard {
  /** e.g. http://127.0.0.1:3000/ */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const app = createDashboardApp(options);
  const { host, port } = options.config;
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host);
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${actualPort}/`;
  options.logger.info({ url }, 'dashboard listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    port: actualPort,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // The board polls over keep-alive connections; without this close() waits for them to
        // time out, which would hold up a shutdown by seconds.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
