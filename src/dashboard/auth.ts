/**
 * Basic auth in front of the board. bull-board has none of its own, and its static assets and
 * API live under the same mount, so one middleware covers all of it.
 */
import type { RequestHandler } from 'express';
import basicAuth from 'express-basic-auth';
import type { Config } from '../config/config.js';
import { isLoopback } from '../config/config.js';
import { IngestError } from '../errors.js';

export const REALM = 'faspex-ingest';

/**
 * The middleware for these settings, or undefined when no user is configured. Config
 * validation already demands a user beyond loopback; this checks again because the dashboard is
 * the one part of the service reachable from outside, and a Config can be built by hand.
 */
export function dashboardAuth(config: Config['dashboard']): RequestHandler | undefined {
  if (config.user === undefined) {
    if (!isLoopback(config.host)) {
      throw new IngestError('CONFIG', `the dashboard would listen on ${config.host} without a login: set DASHBOARD_USER and DASHBOARD_PASSWORD, or DASHBOARD_HOST=127.0.0.1`, { retry: 'never' });
    }
    return undefined;
  }
  if (!config.password) {
    throw new IngestError('CONFIG', 'DASHBOARD_USER is set without DASHBOARD_PASSWORD', { retry: 'never' });
  }
  // express-basic-auth compares in constant time (safeCompare) and answers 401 with a
  // WWW-Authenticate challenge, so browsers show their login prompt.
  return basicAuth({ users: { [config.user]: config.password }, challenge: true, realm: REALM });
}
