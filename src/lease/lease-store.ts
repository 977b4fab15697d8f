/**
 * The Redis side of the listener lease, one per inbox, behind a small interface so the holder
 * logic is tested without Redis and this shell without timing:
 *   <prefix>:inbox:<id>:lease   "<token> <owner>", with a PX expiry; set only when absent
 *   <prefix>:inbox:<id>:fence   the fencing counter: INCR on every acquisition, never reused
 * The value holds the token, so "still mine" and "no newer holder" are one comparison. Every key
 * starts with the configured prefix (a {hash tag} in Redis Cluster puts them in one slot with
 * the mailbox progress they guard).
 */
import type { Cluster, Redis } from 'ioredis';

export type AcquireResult = { acquired: true; token: number; holder: string } | { acquired: false; holder: string; pttl: number };

export interface LeaseStore {
  readonly leaseKey: string;
  readonly fenceKey: string;
  acquire(owner: string, ttlMs: number): Promise<AcquireResult>;
  /** true when `holder` still held it and its expiry was pushed out */
  renew(holder: string, ttlMs: number): Promise<boolean>;
  /** gives it up if still held by `holder`, so a standby takes over at once */
  release(holder: string): Promise<void>;
  /** whether `holder` holds it right now */
  holds(holder: string): Promise<boolean>;
}

/** `scope`: what is leased: an inbox's reading (`inbox`), a Faspex 5 box's sweeping (`sweep`). */
export function leaseKeys(prefix: string, inboxId: string, scope = 'inbox'): { lease: string; fence: string } {
  return { lease: `${prefix}:${scope}:${inboxId}:lease`, fence: `${prefix}:${scope}:${inboxId}:fence` };
}

// SET NX and INCR in one script: a token is drawn only by the one that wins the lease.
const ACQUIRE = `
local current = redis.call('get', KEYS[1])
if current then return {0, current, redis.call('pttl', KEYS[1])} end
local token = redis.call('incr', KEYS[2])
local holder = token .. ' ' .. ARGV[1]
redis.call('set', KEYS[1], holder, 'PX', ARGV[2])
return {token, holder, 0}`;

const RENEW = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

export class RedisLeaseStore implements LeaseStore {
  readonly leaseKey: string;
  readonly fenceKey: string;

  constructor(
    private readonly redis: Redis | Cluster,
    prefix: string,
    inboxId: string,
    scope = 'inbox',
  ) {
    const keys = leaseKeys(prefix, inboxId, scope);
    this.leaseKey = keys.lease;
    this.fenceKey = keys.fence;
  }

  async acquire(owner: string, ttlMs: number): Promise<AcquireResult> {
    const [token, holder, pttl] = (await this.redis.eval(ACQUIRE, 2, this.leaseKey, this.fenceKey, owner, String(ttlMs))) as [number, string, number];
    return token > 0 ? { acquired: true, token, holder } : { acquired: false, holder, pttl };
  }

  async renew(holder: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.leaseKey, holder, String(ttlMs))) === 1;
  }

  async release(holder: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.leaseKey, holder);
  }

  async holds(holder: string): Promise<boolean> {
    return (await this.redis.get(this.leaseKey)) === holder;
  }
}
