/**
 * The listener's progress per mailbox, in Redis, so that mail which arrived while the service
 * was down is read when it comes back and nothing is read twice in normal operation:
 *   <prefix>:mail:<user>@<host>/<mailbox>           hash { uidValidity (string: a BigInt), lastUid }
 *   ...:skipped                                     hash "<uidValidity>:<uid>" → JSON of why
 *   ...:attempts                                    hash "<uidValidity>:<uid>" → reads that died midway
 * Keywords and moves on the server are only for people; this is the source of truth.
 * Under a standby lease (src/lease), progress and skipped records are written only while the
 * lease is this listener's, checked by Redis in the same script: a listener that wakes from a
 * pause after its successor moved on cannot set the progress back.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Fence } from '../lease/lease-keeper.js';

/** What a fenced write needs of the lease. */
export type WriteFence = Pick<Fence, 'leaseKey' | 'holder' | 'lost' | 'assertHeld'>;

// KEYS: lease, progress, skipped. ARGV: holder, uidValidity ('' = no progress), lastUid, then skipped field/value pairs.
const FENCED_SAVE = `
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if #ARGV > 3 then redis.call('hset', KEYS[3], unpack(ARGV, 4)) end
if ARGV[2] ~= '' then redis.call('hset', KEYS[2], 'uidValidity', ARGV[2], 'lastUid', ARGV[3]) end
return 1`;

export interface MailboxProgress {
  uidValidity: string;
  lastUid: number;
}

export interface SkippedMail {
  uid: number;
  uidValidity: string;
  messageId?: string;
  kind: 'unreadable' | 'refused' | 'damaged';
  reason: string;
  at: string;
}

export function mailboxKey(prefix: string, user: string, host: string, mailbox: string): string {
  return `${prefix}:mail:${user}@${host}/${mailbox}`;
}

export class MailboxState {
  constructor(
    private readonly redis: Redis | Cluster,
    readonly key: string,
    private readonly fence?: WriteFence,
  ) {}

  async load(): Promise<MailboxProgress | undefined> {
    const h = await this.redis.hgetall(this.key);
    if (h.uidValidity === undefined || h.lastUid === undefined) return undefined;
    return { uidValidity: h.uidValidity, lastUid: Number(h.lastUid) };
  }

  async save(progress: MailboxProgress): Promise<void> {
    await this.saveChunk(progress, []);
  }

  /**
   * One transaction for a chunk: why its skipped mails were skipped, and the progress past it.
   * Both or neither: a skipped mail is never behind the progress without its record.
   */
  async saveChunk(progress: MailboxProgress | undefined, skipped: readonly SkippedMail[]): Promise<void> {
    if (this.fence) return this.fencedSave(this.fence, progress, skipped);
    const multi = this.redis.multi();
    if (skipped.length > 0) multi.hset(`${this.key}:skipped`, Object.fromEntries(skipped.map((e) => [`${e.uidValidity}:${e.uid}`, JSON.stringify(e)])));
    if (progress) multi.hset(this.key, { uidValidity: progress.uidValidity, lastUid: String(progress.lastUid) });
    const results = await multi.exec();
    for (const [err] of results ?? []) if (err) throw err;
  }

  private async fencedSave(fence: WriteFence, progress: MailboxProgress | undefined, skipped: readonly SkippedMail[]): Promise<void> {
    fence.assertHeld();
    const pairs = skipped.flatMap((e) => [`${e.uidValidity}:${e.uid}`, JSON.stringify(e)]);
    const applied = await this.redis.eval(FENCED_SAVE, 3, fence.leaseKey, this.key, `${this.key}:skipped`, fence.holder, progress?.uidValidity ?? '', String(progress?.lastUid ?? 0), ...pairs);
    if (applied !== 1) throw fence.lost('Redis refused to record progress: another listener holds the lease');
  }

  async skipped(): Promise<SkippedMail[]> {
    const all = await this.redis.hvals(`${this.key}:skipped`);
    return all.map((v) => JSON.parse(v) as SkippedMail).sort((a, b) => a.uid - b.uid);
  }

  /** Reads of these mails that started and never ended (0 for most mails), in order. */
  async attempts(uidValidity: string, uids: readonly number[]): Promise<number[]> {
    if (uids.length === 0) return [];
    const values = await this.redis.hmget(`${this.key}:attempts`, ...uids.map((uid) => `${uidValidity}:${uid}`));
    return values.map((v) => Number(v ?? 0));
  }

  /** Counts a read that is starting; returns how many reads of this mail started so far. */
  async beginAttempt(uidValidity: string, uid: number): Promise<number> {
    return this.redis.hincrby(`${this.key}:attempts`, `${uidValidity}:${uid}`, 1);
  }

  /** Counts a read of mails that had none unfinished (see `attempts`): each is now at 1. */
  async beginFirstAttempts(uidValidity: string, uids: readonly number[]): Promise<void> {
    if (uids.length === 0) return;
    await this.redis.hset(`${this.key}:attempts`, Object.fromEntries(uids.map((uid) => [`${uidValidity}:${uid}`, '1'])));
  }

  async endAttempt(uidValidity: string, uid: number): Promise<void> {
    await this.endAttempts(uidValidity, [uid]);
  }

  async endAttempts(uidValidity: string, uids: readonly number[]): Promise<void> {
    if (uids.length === 0) return;
    await this.redis.hdel(`${this.key}:attempts`, ...uids.map((uid) => `${uidValidity}:${uid}`));
  }
}
