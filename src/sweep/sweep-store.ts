/**
 * What the Faspex 5 sweeps keep in Redis (all under QUEUE_PREFIX, so one {hash tag} slot):
 *   <prefix>:faspex5:done:<server>            hash package id → ms: downloaded (manifest written)
 *                                             or remembered by a first sweep; never fetched again.
 *                                             Independent of BullMQ's job cleanup
 *                                             (KEEP_COMPLETED_DAYS); pruned only once no box of
 *                                             the server lists the package any more.
 *   <prefix>:faspex5:box:<server> <box>       hash: initialised, lastFullAt, lastStartedAt
 *   <prefix>:faspex5:seen:<server> <box>      set: the ids of the box's last full listing
 *   <prefix>:faspex5:box-status               hash "<server> <box>" → JSON BoxStatus (health)
 *   <prefix>:faspex5:sweep-requests           hash "<server> <box>" → stamp: a mail asked for a
 *                                             sweep; cleared (if unchanged) once that sweep has
 *                                             its jobs in Redis, so a failed sweep is retried and a
 *                                             mail arriving during a sweep gets a sweep of its own.
 * A few bytes per package: a server with 100 000 packages costs a few MB.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { prunable, type SweepHistory } from './sweep-plan.js';

type RedisClient = Redis | Cluster;

/** A box's health, written by the process sweeping it. */
export interface BoxStatus {
  server: string;
  box: string;
  user: string;
  /** ms since epoch */
  lastSweepAt?: number;
  outcome: 'ok' | 'failed' | 'never';
  error?: string;
  /** the API client's JWT refused, in the server's words */
  loginRefused?: string;
  /** packages the last listing showed */
  seen?: number;
  queued?: number;
  /** not downloadable now, by status */
  shown?: Record<string, number>;
  /** who sweeps it ("host:pid") */
  holder?: string;
  /** the last sweep was asked for by a mail */
  trigger?: 'mail' | 'timer';
}

export function boxKey(server: string, box: string): string {
  return `${server} ${box}`;
}

export class SweepStore {
  constructor(private readonly redis: RedisClient, private readonly prefix: string) {}

  private doneKey(server: string) {
    return `${this.prefix}:faspex5:done:${server}`;
  }

  /** Which of `ids` are done (or remembered). */
  async done(server: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const values = await this.redis.hmget(this.doneKey(server), ...ids);
    return new Set(ids.filter((_, i) => values[i] !== null));
  }

  /** Marks packages done (the manifest is written) or remembered (a first sweep). */
  async markDone(server: string, ids: readonly string[], at = Date.now()): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.hset(this.doneKey(server), Object.fromEntries(ids.map((id) => [id, String(at)])));
  }

  async history(server: string, box: string): Promise<SweepHistory & { initialised: boolean }> {
    const h = await this.redis.hgetall(`${this.prefix}:faspex5:box:${boxKey(server, box)}`);
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    return { initialised: h.initialised === '1', lastFullAt: num(h.lastFullAt), lastStartedAt: num(h.lastStartedAt) };
  }

  async saveHistory(server: string, box: string, h: { startedAt: number; full: boolean }): Promise<void> {
    await this.redis.hset(`${this.prefix}:faspex5:box:${boxKey(server, box)}`, { initialised: '1', lastStartedAt: String(h.startedAt), ...(h.full ? { lastFullAt: String(h.startedAt) } : {}) });
  }

  /**
   * After a full listing of `box` (begun at `startedAt`): keep its ids, then let go of the done
   * entries that no box of the server lists any more (all of `boxes` must have a full listing).
   */
  async pruneAfterFullListing(server: string, box: string, boxes: readonly string[], ids: readonly string[], startedAt: number): Promise<number> {
    const seenKey = (b: string) => `${this.prefix}:faspex5:seen:${boxKey(server, b)}`;
    const tx = this.redis.multi().del(seenKey(box));
    if (ids.length > 0) tx.sadd(seenKey(box), ...ids);
    await tx.hset(`${this.prefix}:faspex5:box:${boxKey(server, box)}`, 'seenAt', String(startedAt)).exec();
    const seenAt = await Promise.all(boxes.map((b) => this.redis.hget(`${this.prefix}:faspex5:box:${boxKey(server, b)}`, 'seenAt')));
    if (seenAt.some((v) => v === null)) return 0;
    const oldest = Math.min(...seenAt.map(Number));
    const shown = new Set((await Promise.all(boxes.map((b) => this.redis.smembers(seenKey(b))))).flat());
    const done = await this.redis.hgetall(this.doneKey(server));
    const gone = prunable(new Map(Object.entries(done).map(([id, at]) => [id, Number(at)])), shown, oldest);
    if (gone.length > 0) await this.redis.hdel(this.doneKey(server), ...gone);
    return gone.length;
  }

  // --- mail-triggered sweep requests

  /** Asks for a sweep of these boxes (written before the mail is marked handled). */
  async request(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const stamp = randomUUID();
    await this.redis.hset(`${this.prefix}:faspex5:sweep-requests`, Object.fromEntries(keys.map((k) => [k, stamp])));
  }

  async pending(key: string): Promise<string | null> {
    return this.redis.hget(`${this.prefix}:faspex5:sweep-requests`, key);
  }

  /** Clears the request this sweep served, unless a newer one came meanwhile. */
  async served(key: string, stamp: string): Promise<void> {
    await this.redis.eval(HDEL_IF_EQUAL, 1, `${this.prefix}:faspex5:sweep-requests`, key, stamp);
  }

  // --- health

  async writeStatus(status: BoxStatus): Promise<void> {
    await this.redis.hset(`${this.prefix}:faspex5:box-status`, boxKey(status.server, status.box), JSON.stringify(status));
  }

  async statuses(): Promise<BoxStatus[]> {
    const all = await this.redis.hgetall(`${this.prefix}:faspex5:box-status`);
    return Object.values(all).flatMap((v) => {
      try {
        return [JSON.parse(v) as BoxStatus];
      } catch {
        return [];
      }
    });
  }
}

const HDEL_IF_EQUAL = "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0";
