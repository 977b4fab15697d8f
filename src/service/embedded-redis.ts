/**
 * The embedded Redis of `run` (REDIS_URL unset): a redis-server child with its append-only file,
 * pid file and unix socket in DATA_DIR/redis, and an owner record naming the process that started
 * it. A restart after `kill -9` (OOM killer, crash) must come back on its own: the server the dead
 * process left running is recognised (src/service/leftover-redis.ts), told to SHUTDOWN SAVE (its
 * AOF fsynced, so every queued job is kept) and replaced by a child of the new process. A server
 * really in use by a live faspex-ingest is refused, as two servers on one AOF would corrupt it.
 *
 * Two layers, so that either alone suffices: the server is started with Linux's parent-death
 * signal (it shuts itself down when its parent dies), and the start-up check handles whatever is
 * left when that signal is missing (no setpriv, not Linux) or raced.
 */
import { createConnection } from 'node:net';
import { existsSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { IngestError } from '../errors.js';
import { takeDataDirLock } from './data-dir-lock.js';
import { judgeLeftover, type LeftoverFacts } from './leftover-redis.js';
import { commandName, parentPid, processAlive, workingDir } from './process-facts.js';
import { redisAnswers, startRedisServer, type RedisServer } from './redis-server.js';

export const OWNER_RECORD = 'owner.json';
export const PID_FILE = 'redis.pid';
export const SOCKET = 'redis.sock';

interface OwnerRecord {
  ownerPid: number;
  redisPid: number;
  startedAt: string;
}

export interface EmbeddedRedisOptions {
  /** what the start did about a server left behind, for the log */
  note?: (message: string, fields: Record<string, unknown>) => void;
  dieWithParent?: boolean;
  /** how long a server left behind may take to save and exit */
  stopTimeoutMs?: number;
}

export async function startEmbeddedRedis(dir: string, options: EmbeddedRedisOptions = {}): Promise<RedisServer> {
  mkdirSync(dir, { recursive: true });
  const lock = await takeDataDirLock(dir);
  try {
    const facts = await leftoverFacts(dir, lock.busy);
    const verdict = judgeLeftover(facts);
    if (verdict.kind === 'in-use') {
      const who = verdict.ownerPid !== undefined ? ` (pid ${verdict.ownerPid})` : '';
      throw new IngestError('CONFIG', `another faspex-ingest${who} is already running a Redis in ${dir}; stop it, use another DATA_DIR, or set REDIS_URL`, { retry: 'never' });
    }
    if (verdict.kind === 'orphan') {
      options.note?.('a redis-server left behind by a faspex-ingest that is gone: saving and stopping it before starting a new one', { pid: verdict.redisPid, previousOwner: facts.ownerPid, dir });
      await stopLeftover(dir, verdict.redisPid, options.stopTimeoutMs ?? 60_000);
    }
    const server = await startRedisServer({ dir, appendOnly: true, unixSocket: true, pidFile: join(dir, PID_FILE), dieWithParent: options.dieWithParent ?? true });
    writeOwnerRecord(dir, { ownerPid: process.pid, redisPid: server.pid, startedAt: new Date().toISOString() });
    const finish = async (how: () => Promise<void>) => {
      await how();
      rmSync(join(dir, OWNER_RECORD), { force: true });
      await lock.release();
    };
    return { ...server, stop: () => finish(server.stop), kill: () => finish(server.kill) };
  } catch (e) {
    await lock.release();
    throw e;
  }
}

async function leftoverFacts(dir: string, lockHeldElsewhere: boolean): Promise<LeftoverFacts> {
  const record = readOwnerRecord(dir);
  const socket = join(dir, SOCKET);
  let redisPid = [readPid(join(dir, PID_FILE)), record?.redisPid].find((pid) => pid !== undefined && isRedisOf(pid, dir));
  if (redisPid === undefined && existsSync(socket) && (await redisAnswers({ path: socket }, 1000))) {
    // answering on our socket but not named by the files: ask it its PID
    const info = await redisCommand(socket, 'INFO server');
    const m = /process_id:(\d+)/.exec(info);
    redisPid = m ? Number(m[1]) : undefined;
    if (redisPid === undefined) return { lockHeldElsewhere: true, selfPid: process.pid };
  }
  const ownerPid = record && record.redisPid === redisPid ? record.ownerPid : undefined;
  return {
    lockHeldElsewhere,
    redisPid,
    redisParentPid: redisPid === undefined ? undefined : parentPid(redisPid),
    ownerPid,
    ownerAlive: ownerPid === undefined ? undefined : processAlive(ownerPid),
    selfPid: process.pid,
  };
}

/** a live redis-server working in `dir`: a stale pid file may name any process by now */
function isRedisOf(pid: number, dir: string): boolean {
  if (!processAlive(pid) || commandName(pid) !== 'redis-server') return false;
  const cwd = workingDir(pid);
  return cwd === undefined || cwd === realpathSync(dir);
}

async function stopLeftover(dir: string, pid: number, timeoutMs: number): Promise<void> {
  const socket = join(dir, SOCKET);
  let asked = false;
  if (existsSync(socket) && (await redisAnswers({ path: socket }, 1000))) {
    // SAVE: an RDB beside the AOF (which a shutdown fsyncs in any case); a reply means refused
    const reply = await redisCommand(socket, 'SHUTDOWN SAVE');
    asked = reply === '';
  }
  // not answering (still loading its AOF, say) or refused: SIGTERM is Redis's own clean shutdown
  if (!asked) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) {
      throw new IngestError('CONFIG', `the redis-server (pid ${pid}) left running in ${dir} by a faspex-ingest that is gone did not stop within ${Math.round(timeoutMs / 1000)} s; stop it (kill ${pid}) and start again`, { retry: 'never' });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One inline command on the socket; whatever it answered until it closed or went quiet. */
function redisCommand(path: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    let answer = '';
    const done = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, done);
    socket.once('error', done);
    socket.once('close', done);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (d) => {
      answer += d.toString();
      // a bulk reply ($len) is complete once its length arrived; anything else is one line
      const bulk = /^\$(\d+)\r\n/.exec(answer);
      if (bulk ? Buffer.byteLength(answer) >= bulk[0].length + Number(bulk[1]) + 2 : answer.includes('\r\n')) done();
    });
  });
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readOwnerRecord(dir: string): OwnerRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(join(dir, OWNER_RECORD), 'utf8')) as Partial<OwnerRecord>;
    return Number.isInteger(r.ownerPid) && Number.isInteger(r.redisPid) ? (r as OwnerRecord) : undefined;
  } catch {
    return undefined;
  }
}

function writeOwnerRecord(dir: string, record: OwnerRecord): void {
  const file = join(dir, OWNER_RECORD);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record)}\n`);
  renameSync(`${file}.tmp`, file);
}
