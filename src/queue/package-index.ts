/**
 * The packages index: what the packages page needs to find a package without reading every job,
 * kept in Redis next to the queue (every key under `<prefix>:<queue>:pkx:`, so a Cluster's hash
 * tag in the prefix keeps it on the queue's slot, and `obliterate` removes it with the queue).
 *
 * - `pkx:arrival`   ZSET job id → arrival (ms; thousandths order those of one ms): the page's "all"
 *                   view, newest first
 * - `pkx:srv:<s>`   ZSET job id → arrival, per Faspex server; `pkx:servers` SET of servers
 * - `pkx:w:<word>`  ZSET job id → arrival, of the jobs whose title, subject or sender holds the
 *                   word (a sorted set: Redis 7.0 keeps a small one packed, not a small set)
 * - `pkx:words`     ZSET (score 0) of every indexed word: a prefix is one ZRANGEBYLEX
 * - `pkx:doc`       HASH job id → "server<TAB>word word …": what to remove when the job is gone
 *
 * States are not indexed: BullMQ keeps them itself (lists and sorted sets per state), and the
 * page pages over those directly. Written where a job is added (producer, in the fenced MULTI
 * too) and renamed (the worker learns the title and sender); a job BullMQ removes on its own
 * (removeOnComplete/removeOnFail age, bull-board) is dropped lazily when a read meets it, and by
 * the sweep (src/dashboard/packages/index-sweep.ts), which also indexes jobs added another way.
 * Both scripts check the job's hash, so an entry is never made for a job that is gone, nor
 * dropped for one that exists.
 */
import type { Queue } from 'bullmq';
import { maskText } from '../log/secrets.js';
import type { DownloadJobData } from './queues.js';

/** Words per package at most, and their length: a hostile subject cannot grow the index. */
const MAX_WORDS = 48;
const MAX_WORD = 32;

/** Title, subject, sender → the words a search finds them by (lower case, accents off). Pure. */
export function indexWords(...texts: (string | null | undefined)[]): string[] {
  const words = new Set<string>();
  for (const text of texts) {
    if (!text) continue;
    for (const w of text.toLowerCase().normalize('NFKD').replace(/\p{M}+/gu, '').split(/[^\p{L}\p{N}]+/u)) {
      if (w && words.size < MAX_WORDS) words.add(w.slice(0, MAX_WORD));
    }
  }
  return [...words];
}

export interface IndexEntry {
  id: string;
  /** ms since epoch; undefined: leave the arrival as it is (a rename) */
  arrivalMs?: number | undefined;
  server?: string | undefined;
  words: string[];
}

/** The entry a newly added job gets: its arrival, server and the words of its name and sender. */
export function entryOf(id: string, data: Partial<DownloadJobData>, name: string | undefined, timestamp?: number): IndexEntry {
  const queued = data.queuedAt ? Date.parse(data.queuedAt) : NaN;
  return {
    id,
    arrivalMs: Number.isFinite(queued) ? queued : (timestamp ?? Date.now()),
    server: data.server,
    words: indexWords(name, data.source?.subject ? maskText(data.source.subject) : undefined, data.source?.from ? maskText(data.source.from) : undefined),
  };
}

export interface IndexKeys {
  arrival: string;
  servers: string;
  words: string;
  doc: string;
  /** + word */
  word: string;
  /** + server */
  server: string;
  /** + a name: short-lived result sets of the page's reads */
  tmp: string;
}

export function indexKeys(queue: Pick<Queue, 'toKey'>): IndexKeys {
  const k = (s: string) => queue.toKey(`pkx:${s}`);
  return { arrival: k('arrival'), servers: k('servers'), words: k('words'), doc: k('doc'), word: k('w:'), server: k('srv:'), tmp: k('tmp:') };
}

// KEYS: job hash, arrival, servers, words, doc. ARGV: id, word prefix, server prefix, arrival, server, words…
// The per-word and per-server keys are built here from prefixes of the same hash tag.
const ADD_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local id = ARGV[1]
local doc = redis.call('HGET', KEYS[5], id)
local at = ARGV[4]
if not doc then
  if at == '' then return 0 end
  -- two packages queued in the same millisecond as the newest: the later one goes a thousandth
  -- after it, so newest-first is the order Redis took them in, not the order of their ids
  local top = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2]
  if top and math.floor(tonumber(top)) == tonumber(at) then
    at = string.format('%.3f', math.min(tonumber(top) + 0.001, tonumber(at) + 0.999))
  end
  redis.call('ZADD', KEYS[2], 'NX', at, id)
  if ARGV[5] ~= '' then
    redis.call('ZADD', ARGV[3] .. ARGV[5], 'NX', at, id)
    redis.call('SADD', KEYS[3], ARGV[5])
  end
  doc = ARGV[5] .. '\\t'
end
at = redis.call('ZSCORE', KEYS[2], id) or at
if at == '' then return 0 end
local n = 0
for i = 6, #ARGV do
  if redis.call('ZADD', ARGV[2] .. ARGV[i], 'NX', at, id) == 1 then
    redis.call('ZADD', KEYS[4], 0, ARGV[i])
    doc = doc .. ' ' .. ARGV[i]
    n = n + 1
  end
end
redis.call('HSET', KEYS[5], id, doc)
return 1 + n`;

// KEYS: job hash, arrival, servers, words, doc. ARGV: id, word prefix, server prefix.
const DROP_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local id = ARGV[1]
redis.call('ZREM', KEYS[2], id)
local doc = redis.call('HGET', KEYS[5], id)
if not doc then return 1 end
local tab = string.find(doc, '\\t', 1, true) or (#doc + 1)
local server = string.sub(doc, 1, tab - 1)
if server ~= '' then
  local sk = ARGV[3] .. server
  redis.call('ZREM', sk, id)
  if redis.call('ZCARD', sk) == 0 then redis.call('SREM', KEYS[3], server) end
end
for w in string.gmatch(string.sub(doc, tab + 1), '%S+') do
  local wk = ARGV[2] .. w
  if redis.call('ZREM', wk, id) == 1 and redis.call('ZCARD', wk) == 0 then redis.call('ZREM', KEYS[4], w) end
end
redis.call('HDEL', KEYS[5], id)
return 1`;

const ADD = 'faspexIngestIndexAdd';
const DROP = 'faspexIngestIndexDrop';
type Client = Awaited<ReturnType<Queue['getBackend']>['client']>;
/** a pipeline or MULTI of BullMQ's client */
export interface CommandBatch {
  runCommand(name: string, args: unknown[]): unknown;
}
const defined = new WeakSet<object>();

/** The client with the index scripts defined (a MULTI or pipeline made after this has them too). */
export async function indexClient(queue: Queue): Promise<Client> {
  const client = await queue.getBackend().client;
  if (!defined.has(client)) {
    client.defineCommand(ADD, { numberOfKeys: 5, lua: ADD_LUA });
    client.defineCommand(DROP, { numberOfKeys: 5, lua: DROP_LUA });
    defined.add(client);
  }
  return client;
}

function scriptKeys(queue: Pick<Queue, 'toKey'>, id: string): string[] {
  const k = indexKeys(queue);
  return [queue.toKey(id), k.arrival, k.servers, k.words, k.doc];
}

/** Queues the index writes for these entries on a pipeline or MULTI of an `indexClient`. */
export function addToIndex(queue: Pick<Queue, 'toKey'>, batch: CommandBatch, entries: readonly IndexEntry[]): void {
  const k = indexKeys(queue);
  for (const e of entries) {
    const args = [...scriptKeys(queue, e.id), e.id, k.word, k.server, e.arrivalMs === undefined ? '' : String(Math.round(e.arrivalMs)), e.server ?? '', ...e.words];
    batch.runCommand(ADD, args);
  }
}

export async function indexJobs(queue: Queue, entries: readonly IndexEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const client = await indexClient(queue);
  const pipeline = client.pipeline();
  addToIndex(queue, pipeline, entries);
  for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
}

/** Drops these ids' entries where their jobs are gone; returns how many were dropped. */
export async function dropFromIndex(queue: Queue, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const client = await indexClient(queue);
  const k = indexKeys(queue);
  const pipeline = client.pipeline();
  for (const id of ids) pipeline.runCommand(DROP, [...scriptKeys(queue, id), id, k.word, k.server]);
  let dropped = 0;
  for (const [err, n] of (await pipeline.exec()) ?? []) {
    if (err) throw err;
    dropped += Number(n);
  }
  return dropped;
}
