/**
 * The listener's progress per mailbox, in Redis, so that mail which arrived while the service
 * was down is read when it comes back and nothing is read twice in normal operation:
 *   <prefix>:mail:<user>@<host>/<mailbox>           hash { uidValidity (string: a BigInt), lastUid }
 *   ...:skipped                                     hash "<uidValidity>:<uid>" → JSON of why
 *   ...:attempts                                    hash "<uidValidity>:<uid>" → reads that died midway
 * Keywords and moves on the server are only for people; this is the source of truth.
 */
import type { Cluster, Redis } from 'ioredis';

export interface MailboxProgress {
  uidValidity: string;
  lastUid: number;
}

export interface SkippedMail {
  uid: number;
  uidValidity: string;
  messageId?: string;
  kind: 'unreadable' | 'refused';
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
  ) {}

  async load(): Promise<MailboxProgress | undefined> {
    const h = await this.redis.hgetall(this.key);
    if (h.uidValidity === undefined || h.lastUid === undefined) return undefined;
    return { uidValidity: h.uidValidity, lastUid: Number(h.lastUid) };
  }

  async save(progress: MailboxProgress): Promise<void> {
    await this.redis.hset(this.key, { uidValidity: progress.uidValidity, lastUid: String(progress.lastUid) });
  }

  async recordSkipped(entry: SkippedMail): Promise<void> {
    await this.saveChunk(undefined, [entry]);
  }

  /**
   * One transaction for a chunk: why its skipped mails were skipped, and the progress past it.
   * Both or neither: a skipped mail is never behind the progress without its record.
   */
  async saveChunk(progress: MailboxProgress | undefined, skipped: readonly SkippedMail[]): Promise<void> {
    const multi = this.redis.multi();
    if (skipped.length > 0) multi.hset(`${this.key}:skipped`, Object.fromEntries(skipped.map((e) => [`${e.uidValidity}:${e.uid}`, JSON.stringify(e)])));
    if (progress) multi.hset(this.key, { uidValidity: progress.uidValidity, lastUid: String(progress.lastUid) });
    const results = await multi.exec();
    for (const [err] of results ?? []) if (err) throw err;
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
