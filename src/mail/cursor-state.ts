/**
 * The progress of a cursor-based mail source (Graph's delta link) in Redis, under the same lease
 * and fence as an IMAP inbox's (mailbox-state.ts):
 *   <prefix>:mail:<source>:<mailbox>/<folder>      hash { cursor }
 *   ...:handled                                     zset mail id → when it was handled (ms)
 *   ...:skipped                                     hash mail id → JSON of why
 * One script writes a page's outcome: the handled ids, the skip records and the cursor past the
 * page, only while the lease is this reader's (Redis checks it), so a reader that wakes from a
 * pause after its successor moved on cannot set the cursor back or record anything.
 * `handled` is what tells a full resync (an expired cursor) which mails need no second reading,
 * besides the marks on the server; entries older than HANDLED_KEEP_MS are trimmed.
 */
import type { Cluster, Redis } from 'ioredis';
import type { SkippedMail, WriteFence } from './mailbox-state.js';

/** A resync after this long re-reads a mail whose category was removed; its job id still dedupes while the job is kept. */
export const HANDLED_KEEP_MS = 45 * 24 * 3600_000;

// KEYS: lease, progress, handled, skipped. ARGV: holder, cursor ('' = clear), now, trim-before, #handled, handled ids…, skipped field/value pairs…
const FENCED_COMMIT = `
if KEYS[1] ~= '' and redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[5])
for i = 6, 5 + n do redis.call('zadd', KEYS[3], ARGV[3], ARGV[i]) end
if #ARGV > 5 + n then redis.call('hset', KEYS[4], unpack(ARGV, 6 + n)) end
redis.call('zremrangebyscore', KEYS[3], '-inf', ARGV[4])
if ARGV[2] == '' then redis.call('hdel', KEYS[2], 'cursor') else redis.call('hset', KEYS[2], 'cursor', ARGV[2]) end
return 1`;

export type CursorSkip = Omit<SkippedMail, 'uid' | 'uidValidity'> & { id: string };

export function cursorKey(prefix: string, source: string, mailbox: string, folder: string): string {
  return `${prefix}:mail:${source}:${mailbox}/${folder}`;
}

export class CursorState {
  constructor(
    private readonly redis: Redis | Cluster,
    readonly key: string,
    private readonly fence?: WriteFence,
  ) {}

  async load(): Promise<string | undefined> {
    return (await this.redis.hget(this.key, 'cursor')) ?? undefined;
  }

  /** Which of these ids were handled before, in order. */
  async handledAmong(ids: readonly string[]): Promise<boolean[]> {
    if (ids.length === 0) return [];
    const scores = await this.redis.zmscore(`${this.key}:handled`, ...ids);
    return scores.map((s) => s !== null);
  }

  /** A page's outcome and the cursor past it, all or nothing; `cursor` undefined clears it (a resync). */
  async commit(cursor: string | undefined, handled: readonly string[], skipped: readonly CursorSkip[], now = Date.now()): Promise<void> {
    this.fence?.assertHeld();
    const pairs = skipped.flatMap((e) => [e.id, JSON.stringify(e)]);
    const applied = await this.redis.eval(
      FENCED_COMMIT, 4, this.fence?.leaseKey ?? '', this.key, `${this.key}:handled`, `${this.key}:skipped`,
      this.fence?.holder ?? '', cursor ?? '', String(now), String(now - HANDLED_KEEP_MS), String(handled.length), ...handled, ...pairs,
    );
    if (applied !== 1) throw this.fence!.lost('Redis refused to record progress: another listener holds the lease');
  }

  async skipped(): Promise<CursorSkip[]> {
    return (await this.redis.hvals(`${this.key}:skipped`)).map((v) => JSON.parse(v) as CursorSkip);
  }
}
