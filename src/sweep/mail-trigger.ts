/**
 * Which Faspex 5 servers a mail asks to sweep: a server with an API client whose package link
 * the mail holds (any Faspex 5 form), whose host the mail names anywhere (a link form the
 * extractor does not know: decide.ts `mentions`), or whose configured sender wrote it. Pure.
 */
import type { LinkKind } from '../faspex/link.js';

export interface TriggerServer {
  server: string;
  /** lower-case addresses or `@domain`s */
  senders: readonly string[];
}

export interface TriggerDecision {
  links: ReadonlyArray<{ kind: LinkKind; server: string }>;
  from?: string | undefined;
  mentions?: readonly string[] | undefined;
}

export function serversAsked(decision: TriggerDecision, servers: readonly TriggerServer[]): string[] {
  const from = decision.from?.toLowerCase();
  return servers.filter(({ server, senders }) =>
    decision.links.some((l) => l.server === server && l.kind.startsWith('faspex5'))
    || (decision.mentions ?? []).includes(server)
    || (from !== undefined && senders.some((s) => (s.startsWith('@') ? from.endsWith(s) : from === s)))).map((s) => s.server);
}
