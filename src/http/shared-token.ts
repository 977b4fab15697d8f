/**
 * An access token shared by every process that uses the same credentials: kept in the process
 * and, with Redis, under `<key>` (expiring with the token), so a standby, a restart or another
 * role takes it instead of asking the token endpoint again. The one process that must fetch holds
 * `<key>:lock` for a few seconds; the others wait for its result rather than hammer the endpoint.
 * A token is used until shortly before its own expiry (a fraction of short lifetimes, so a
 * 5-minute token is not "always due"); `drop` forgets a refused one without touching a fresh one
 * another process may have put there meanwhile. Used by the mailbox OAuth source and the Faspex 5
 * API clients. The token is registered for masking before it is handed out.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { registerSecret } from '../log/secrets.js';

export interface SharedToken {
  accessToken: string;
  /** ms since epoch */
  expiresAt: number;
}

export interface SharedTokenOptions {
  redis?: Redis | Cluster | undefined;
  /** the Redis key of the token; it must not contain a secret (hash one in) */
  key: string;
  /** the fetch lock's key (default `<key>:lock`) */
  lockKey?: string;
  /** how long a fetch may hold the lock */
  lockMs?: number;
  /** the most a token is used before its expiry (default 5 minutes, at most a quarter of its life) */
  marginMs?: number;
  now?: () => number;
}

const WAIT_POLL_MS = 100;

/** Whether a token is still good: it must outlive its use by a margin. */
export function isFresh(token: Pick<SharedToken, 'expiresAt'>, now: number, lifetimeMs: number, marginMs = 5 * 60_000): boolean {
  const margin = Math.min(marginMs, Math.max(0, lifetimeMs) / 4);
  return token.expiresAt - margin > now;
}

export class SharedTokenCache {
  private cached: { token: SharedToken; lifetimeMs: number } | undefined;
  private inflight: Promise<SharedToken> | undefined;
  private readonly now: () => number;

  constructor(private readonly o: SharedTokenOptions) {
    this.now = o.now ?? Date.now;
  }

  /** A fresh token: the process's, Redis's, or one `fetch` obtains (one fetch at a time). */
  async get(fetch: () => Promise<SharedToken>): Promise<SharedToken> {
    if (this.cached && isFresh(this.cached.token, this.now(), this.cached.lifetimeMs, this.o.marginMs)) return this.cached.token;
    this.inflight ??= this.obtain(fetch).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** Forgets `accessToken` (the server refused it), here and in Redis if it is still the one there. */
  async drop(accessToken: string | undefined): Promise<void> {
    if (this.cached?.token.accessToken === accessToken || accessToken === undefined) this.cached = undefined;
    if (accessToken && this.o.redis) await this.o.redis.eval(DEL_TOKEN_IF_EQUAL, 1, this.o.key, accessToken).catch(() => undefined);
  }

  private async obtain(fetch: () => Promise<SharedToken>): Promise<SharedToken> {
    const redis = this.o.redis;
    if (!redis) return this.keep(await fetch(), this.now());
    const shared = await this.shared();
    if (shared) return shared;
    const lockKey = this.o.lockKey ?? `${this.o.key}:lock`;
    const lockMs = this.o.lockMs ?? 15_000;
    const lock = randomUUID();
    const deadline = Date.now() + lockMs;
    while (!(await redis.set(lockKey, lock, 'PX', lockMs, 'NX'))) {
      // another process is fetching: take its token rather than ask the endpoint again
      await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
      const theirs = await this.shared();
      if (theirs) return theirs;
      if (Date.now() > deadline) break;
    }
    try {
      const again = await this.shared();
      if (again) return again;
      const started = this.now();
      const token = await fetch();
      const kept = this.keep(token, started);
      const ttl = Math.max(1, token.expiresAt - this.now());
      await redis.set(this.o.key, JSON.stringify({ accessToken: token.accessToken, expiresAt: token.expiresAt, lifetimeMs: this.cached!.lifetimeMs }), 'PX', ttl);
      return kept;
    } finally {
      await redis.eval(DEL_IF_EQUAL, 1, lockKey, lock).catch(() => undefined);
    }
  }

  private keep(token: SharedToken, started: number): SharedToken {
    registerSecret(token.accessToken);
    this.cached = { token, lifetimeMs: token.expiresAt - started };
    return token;
  }

  private async shared(): Promise<SharedToken | undefined> {
    const raw = await this.o.redis!.get(this.o.key);
    if (!raw) return undefined;
    const entry = JSON.parse(raw) as { accessToken: string; expiresAt: number; lifetimeMs: number };
    registerSecret(entry.accessToken);
    const token = { accessToken: entry.accessToken, expiresAt: entry.expiresAt };
    if (!isFresh(token, this.now(), entry.lifetimeMs, this.o.marginMs)) return undefined;
    this.cached = { token, lifetimeMs: entry.lifetimeMs };
    return token;
  }
}

const DEL_IF_EQUAL = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const DEL_TOKEN_IF_EQUAL = `local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).accessToken == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
