/**
 * Transfer slots held in Redis, so a cap holds across every worker on every host: per host a
 * sorted set of leases (member: the job attempt, score: when the lease expires, by Redis's own
 * clock so hosts' clocks do not matter). A lease is renewed while its transfer runs; a worker
 * that dies stops renewing and its slot frees itself when the lease runs out. A host whose
 * server refused a session has a lowered cap beside it, with its own expiry.
 *
 *   <prefix>:caps:<scope>:<host>           zset  lease id → expiry (ms)
 *   <prefix>:caps:<scope>:<host>:lowered   string  the lowered cap (PX: how long it holds)
 *
 * Both keys carry the prefix, so in a Cluster they share the queues' slot.
 */
import type { RedisClient } from './connection.js';
import type { CapScope } from './transfer-caps.js';
import { capKey } from './transfer-caps.js';

// KEYS: holders, lowered. ARGV: lease id, cap (-1: none), lease ms.
// Returns { acquired 0|1, holders after, effective cap (-1: none) }.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local cap = tonumber(ARGV[2])
local lowered = redis.call('GET', KEYS[2])
if lowered then
  lowered = tonumber(lowered)
  if cap < 0 or lowered < cap then cap = lowered end
end
local n = redis.call('ZCARD', KEYS[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if cap >= 0 and n >= cap then return {0, n, cap} end
  n = n + 1
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease * 2)
return {1, n, cap}
`;

// KEYS: holders. ARGV: lease id, lease ms. Re-adds a lease that expired meanwhile (a long pause,
// or a Redis failover that lost it): the transfer runs, so it counts.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1
`;

// KEYS: holders, lowered. Returns { live holders, current lowered cap or -1 }.
const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lowered = redis.call('GET', KEYS[2])
return {redis.call('ZCARD', KEYS[1]), lowered and tonumber(lowered) or -1}
`;

export interface SlotAnswer {
  acquired: boolean;
  holders: number;
  /** the cap in force (configured or lowered), undefined for none */
  cap: number | undefined;
}

export class TransferSlots {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** how long a lease lives without renewal: a dead worker's slot frees itself this long after */
    readonly leaseMs: number,
  ) {}

  private keys(scope: CapScope, host: string): [string, string] {
    const holders = `${this.prefix}:caps:${scope}:${capKey(host)}`;
    return [holders, `${holders}:lowered`];
  }

  async acquire(scope: CapScope, host: string, leaseId: string, cap: number | undefined): Promise<SlotAnswer> {
    const [a, n, c] = (await this.redis.eval(ACQUIRE, 2, ...this.keys(scope, host), leaseId, cap ?? -1, this.leaseMs)) as [number, number, number];
    return { acquired: a === 1, holders: n, cap: c < 0 ? undefined : c };
  }

  async renew(scope: CapScope, host: string, leaseId: string): Promise<void> {
    await this.redis.eval(RENEW, 1, this.keys(scope, host)[0], leaseId, this.leaseMs);
  }

  async release(scope: CapScope, host: string, leaseId: string): Promise<void> {
    await this.redis.zrem(this.keys(scope, host)[0], leaseId);
  }

  /** Live holders and the lowered cap (undefined when none holds). */
  async state(scope: CapScope, host: string): Promise<{ holders: number; lowered: number | undefined }> {
    const [n, l] = (await this.redis.eval(COUNT, 2, ...this.keys(scope, host))) as [number, number];
    return { holders: n, lowered: l < 0 ? undefined : l };
  }

  async lower(scope: CapScope, host: string, to: number, forMs: number): Promise<void> {
    await this.redis.set(this.keys(scope, host)[1], String(to), 'PX', forMs);
  }
}
