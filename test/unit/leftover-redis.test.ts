import { describe, expect, it } from 'vitest';
import { judgeLeftover, type LeftoverFacts, type LeftoverVerdict } from '../../src/service/leftover-redis.js';

const self = 500;
const cases: Array<[string, Omit<LeftoverFacts, 'selfPid'>, LeftoverVerdict['kind']]> = [
  ['nothing left', { lockHeldElsewhere: false }, 'none'],
  ['lock held by a live run on this host, even with no server seen', { lockHeldElsewhere: true }, 'in-use'],
  ['lock held, server running', { lockHeldElsewhere: true, redisPid: 90, redisParentPid: 80, ownerPid: 80 }, 'in-use'],
  ['server still the child of its owner (another network namespace)', { lockHeldElsewhere: false, redisPid: 90, redisParentPid: 80, ownerPid: 80 }, 'in-use'],
  ['owner died: server adopted by init', { lockHeldElsewhere: false, redisPid: 90, redisParentPid: 1, ownerPid: 80 }, 'orphan'],
  ['owner died: server adopted by a subreaper (tini, systemd --user)', { lockHeldElsewhere: false, redisPid: 90, redisParentPid: 7, ownerPid: 80 }, 'orphan'],
  ['owner PID reused by an unrelated live process', { lockHeldElsewhere: false, redisPid: 90, redisParentPid: 1, ownerPid: 80, ownerAlive: true }, 'orphan'],
  ['owner PID is ours (a restarted container gets the same PID)', { lockHeldElsewhere: false, redisPid: 90, redisParentPid: 1, ownerPid: self, ownerAlive: true }, 'orphan'],
  ['no /proc: owner alive', { lockHeldElsewhere: false, redisPid: 90, ownerPid: 80, ownerAlive: true }, 'in-use'],
  ['no /proc: owner gone', { lockHeldElsewhere: false, redisPid: 90, ownerPid: 80, ownerAlive: false }, 'orphan'],
  ['no owner record, adopted by init', { lockHeldElsewhere: false, redisPid: 90, redisParentPid: 1 }, 'orphan'],
  ['no owner record, a parent that is alive: someone else\'s', { lockHeldElsewhere: false, redisPid: 90, redisParentPid: 77 }, 'in-use'],
  ['no owner record, no /proc', { lockHeldElsewhere: false, redisPid: 90 }, 'in-use'],
];

describe('judgeLeftover: whose is the embedded Redis found at start', () => {
  it.each(cases)('%s', (_name, facts, kind) => {
    expect(judgeLeftover({ ...facts, selfPid: self }).kind).toBe(kind);
  });

  it('names the server it would stop', () => {
    expect(judgeLeftover({ lockHeldElsewhere: false, redisPid: 90, redisParentPid: 1, ownerPid: 80, selfPid: self })).toEqual({ kind: 'orphan', redisPid: 90 });
  });
});
