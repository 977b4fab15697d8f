/**
 * Whether the embedded Redis found in DATA_DIR/redis at start belongs to a live faspex-ingest
 * (refuse to start: two Redis servers on one append-only file would corrupt it) or was left
 * behind by one that died (SIGKILL, OOM killer, crash: its redis-server lives on, orphaned), which
 * the new process shuts down cleanly and replaces. Pure: the facts come from
 * src/service/embedded-redis.ts.
 *
 * The rule rests on one kernel fact: a child whose parent dies is re-parented at once (to PID 1 or
 * a subreaper), so "the redis-server's parent is still the process that started it" means that
 * process is alive, whatever PIDs were reused since. In a container the restarted node often gets
 * the very PID of the dead one, hence the check against our own PID.
 */
export interface LeftoverFacts {
  /** a live process on this host holds DATA_DIR's lock (src/service/data-dir-lock.ts) */
  lockHeldElsewhere: boolean;
  /** a live redis-server of this data folder (its pid file, or its own INFO over the socket) */
  redisPid?: number;
  /** its parent, when /proc tells (undefined elsewhere) */
  redisParentPid?: number;
  /** the process that started it, from the owner record beside it */
  ownerPid?: number;
  /** whether ownerPid is a live process (used only when the parent cannot be read) */
  ownerAlive?: boolean;
  selfPid: number;
}

export type LeftoverVerdict =
  | { kind: 'none' }
  | { kind: 'in-use'; ownerPid?: number; redisPid?: number }
  | { kind: 'orphan'; redisPid: number };

export function judgeLeftover(f: LeftoverFacts): LeftoverVerdict {
  const inUse: LeftoverVerdict = { kind: 'in-use', ownerPid: f.ownerPid, redisPid: f.redisPid };
  if (f.lockHeldElsewhere) return inUse;
  if (f.redisPid === undefined) return { kind: 'none' };
  const orphan: LeftoverVerdict = { kind: 'orphan', redisPid: f.redisPid };
  if (f.ownerPid === undefined) {
    // no owner record (a Redis started by hand, or by a version without records): only a
    // server already adopted by init is known to be nobody's
    return f.redisParentPid === 1 ? orphan : inUse;
  }
  if (f.ownerPid === f.selfPid) return orphan;
  if (f.redisParentPid !== undefined) return f.redisParentPid === f.ownerPid ? inUse : orphan;
  return f.ownerAlive ? inUse : orphan;
}
