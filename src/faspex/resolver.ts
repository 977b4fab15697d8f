/**
 * PackageLink → ResolvedPackage, by link kind. The one resolver the worker, `download` and
 * `resolve` use; it owns the HTTP client (and so its connection pool and TLS settings).
 *
 * Extending: a new client registers the kinds it handles in `handlers` below; nothing else
 * changes.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Dispatcher } from 'undici';
import type { FaspexConfig } from '../config/config.js';
import { permanent } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { createFaspex4Client } from './faspex4-client.js';
import { createFaspex5Client } from './faspex5-client.js';
import { createFaspexHttp } from './http.js';
import type { LinkKind, PackageLink } from './link.js';
import type { PackageResolver, ResolvedPackage } from './resolved-package.js';

export interface ResolverOptions {
  /** replaces the agent built from config (tests: count or refuse connections) */
  dispatcher?: Dispatcher;
  /** shares Faspex 5 API access tokens between processes */
  redis?: Redis | Cluster | undefined;
  prefix?: string;
}

export interface ClosableResolver extends PackageResolver {
  /** closes idle connections; resolve() must not be called afterwards */
  close(): Promise<void>;
}

type Handler = (link: PackageLink, signal?: AbortSignal) => Promise<ResolvedPackage>;

export function createResolver(config: FaspexConfig, logger: Logger, options: ResolverOptions = {}): ClosableResolver {
  const http = createFaspexHttp(config, logger, options.dispatcher ? { dispatcher: options.dispatcher } : {});
  const faspex4 = createFaspex4Client({ http, config, logger });
  const faspex5: Handler = createFaspex5Client({ http, config, logger, redis: options.redis, prefix: options.prefix }).resolve;

  const handlers: Record<LinkKind, Handler> = {
    'faspex4-external': faspex4.resolve,
    'faspex4-received': faspex4.resolve,
    'fasp-url': faspex4.resolve,
    'faspex5-public': faspex5,
    'faspex5-inbox': faspex5,
  };

  return {
    async resolve(link, signal) {
      const handler = handlers[link.kind];
      if (!handler) throw permanent('LINK_INVALID', `unknown link kind ${String(link.kind)}`);
      const started = Date.now();
      const resolved = await handler(link, signal);
      logger.info({ kind: link.kind, server: link.server, packageId: resolved.packageId, title: resolved.title, ms: Date.now() - started }, 'package resolved');
      return resolved;
    },
    close: () => http.close(),
  };
}
