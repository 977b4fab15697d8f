/**
 * A Graph inbox's reader: the polling reader (src/mail/polling-reader.ts) over a GraphSource,
 * its progress (the delta link) in Redis under the inbox's lease, its token from the IMAP OAuth
 * code's token source with Graph's scope.
 */
import type { GraphConfig } from '../../config/inbox.js';
import type { Fence } from '../../lease/lease-keeper.js';
import type { Logger } from '../../log/logger.js';
import type { ProxySettings } from '../../http/proxy.js';
import type { Cluster, Redis } from 'ioredis';
import type { AllowedHost } from '../../faspex/allowlist.js';
import type { EnqueueResult } from '../../queue/producer.js';
import { CursorState, cursorKey } from '../cursor-state.js';
import type { ImapAuthSource } from '../imap-auth/token-source.js';
import { PollingReader } from '../polling-reader.js';
import type { SenderPolicy } from '../sender-policy.js';
import type { EnqueueItem, Faspex5MailTrigger } from '../types.js';
import { createGraphClient } from './graph-client.js';
import { GraphSource, type GraphMail } from './graph-source.js';

export interface GraphReaderDeps {
  graph: GraphConfig;
  redis: Redis | Cluster;
  prefix: string;
  fence?: Fence | undefined;
  enqueue: (items: EnqueueItem[]) => Promise<EnqueueResult[]>;
  allowlist: AllowedHost[];
  senderPolicy?: SenderPolicy | undefined;
  maxLinks?: number | undefined;
  faspex5?: Faspex5MailTrigger | undefined;
  auth: ImapAuthSource;
  logger: Logger;
  timeoutMs?: number | undefined;
  proxy?: ProxySettings | undefined;
  backoffBaseMs?: number | undefined;
}

export function graphStateKey(prefix: string, graph: Pick<GraphConfig, 'mailbox' | 'folder'>): string {
  return cursorKey(prefix, 'graph', graph.mailbox.toLowerCase(), graph.folder);
}

export function createGraphReader(d: GraphReaderDeps): PollingReader<GraphMail> {
  const { graph } = d;
  const client = createGraphClient({ baseUrl: graph.baseUrl, auth: d.auth, caFile: graph.caFile, timeoutMs: d.timeoutMs ?? 30_000, proxy: d.proxy, logger: d.logger });
  const source = new GraphSource(client, graph.mailbox, { folder: graph.folder, markKeyword: graph.markKeyword, moveTo: graph.moveTo });
  const reader = new PollingReader<GraphMail>({
    source,
    state: new CursorState(d.redis, graphStateKey(d.prefix, graph), d.fence),
    folder: graph.folder,
    pollMs: graph.pollSeconds * 1000,
    enqueue: d.enqueue,
    allowlist: d.allowlist,
    senderPolicy: d.senderPolicy,
    maxLinks: d.maxLinks,
    faspex5: d.faspex5,
    fence: d.fence,
    logger: d.logger,
    ...(d.backoffBaseMs !== undefined ? { backoffBaseMs: d.backoffBaseMs } : {}),
  });
  // the HTTP pool closes with the reader
  const stop = reader.stop.bind(reader);
  reader.stop = async (options) => {
    await stop(options);
    await source.close();
  };
  return reader;
}
