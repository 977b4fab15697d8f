/**
 * Faspex's connection pools as a Dispatcher of their own, for tests that wrap them (count or
 * refuse connections) and hand them to createFaspexHttp. The service never imports this module:
 * its client builds the same pools with its first request (src/http/client.ts), so undici is not
 * loaded while nothing is fetched.
 */
import type { FaspexConfig } from '../config/config.js';
import { OutboundDispatcher } from '../http/dispatcher.js';
import type { Logger } from '../log/logger.js';
import { faspexTls, warnIfInsecure } from './http.js';

/** Faspex's pools (direct and through its proxy), with FASPEX_CA_FILE / FASPEX_INSECURE_TLS. */
export function createFaspexAgent(config: FaspexConfig, logger: Logger): OutboundDispatcher {
  warnIfInsecure(config, logger);
  return new OutboundDispatcher({ tls: faspexTls(config), timeoutMs: config.timeoutMs, proxy: config.proxy });
}
