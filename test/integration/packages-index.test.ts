/**
 * The packages index (src/queue/package-index.ts) stays true through every way a job changes,
 * over a real Redis and real BullMQ workers: added by the producer (plain and fenced MULTI),
 * renamed by the worker, removed from the page, removed by BullMQ itself for age
 * (removeOnComplete), removed behind its back (bull-board), added without it (queue.add). A
 * search finds a package older than the newest thousand; a gone job is never shown.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { sweepIndex } from '../../src/dashboard/packages/index-sweep.js';
import { loadPackagesView, type PackagesView } from '../../src/dashboard/packages/source.js';
import { parsePageQuery } from '../../src/dashboard/packages/view-model.js';
import { parsePackageLink } from '../../src/faspex/link.js';
import { renameJob } from '../../src/queue/job-name.js';
import { entryOf, indexJobs, indexKeys } from '../../src/queue/package-index.js';
import { enqueueDownloads } from '../../src/queue/producer.js';
import { QUEUE, type DownloadJobData } from '../../src/queue/queues.js';
import { redisForFile } from '../support/redis-for-file.js';
import { uniqueName, waitFor } from '../support/temp.js';

const PASSCODE = 'cafe'.repeat(10);
const shared = redisForFile();
const { cleanups } = shared;

function newQueue(): Queue<DownloadJobData> {
  // a connection of its own: the fenced enqueue WATCHes on it
  const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection, prefix: uniqueName('pkx') });
  cleanups.push(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  });
  return queue;
}

const link = (server: string, id: number | string) => parsePackageLink(`https://${server}/aspera/faspex/external_deliveries/${id}?passcode=${PASSCODE}`);
const item = (server: string, id: number | string, subject: string, from = 'Ann Lee via Faspex <faspex@fx.example.com>') => ({ link: link(server, id), source: { type: 'mail' as const, subject, from } });

const view = (queue: Queue<DownloadJobData>, q: Record<string, string> = {}): Promise<PackagesView> => loadPackagesView({ queue, inboxes: async () => [] }, parsePageQuery(q));
const titles = (v: PackagesView) => v.rows.map((r) => r.title);

describe('packages index', () => {
  it('finds by search any kept package, also one older than the newest thousand of its state', { timeout: 120_000 }, async () => {
    const queue = newQueue();
    await enqueueDownloads(queue, [item('fx.example.com', 1, 'Faspex package: Zebra crossing rushes')], {});
    const rest = Array.from({ length: 1100 }, (_, i) => item('fx.example.com', i + 2, `Faspex package: reel ${i + 2}`));
    for (let i = 0; i < rest.length; i += 275) await enqueueDownloads(queue, rest.slice(i, i + 275), {});
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1101 });
    // the zebra job is the last of the wait list: beyond the newest 1,000
    expect((await queue.getRanges(['waiting'], 1000, 1100)).includes('faspex4-external-fx.example.com-1')).toBe(true);

    for (const q of ['zebra', 'Zeb', 'crossing rush', 'ZEBRA   crossing']) {
      const v = await view(queue, { q });
      expect([q, v.total, titles(v)]).toEqual([q, 1, ['Faspex package: Zebra crossing rushes']]);
    }
    expect((await view(queue, { q: 'zebra', show: 'waiting' })).total).toBe(1);
    expect((await view(queue, { q: 'zebra', show: 'done' })).total).toBe(0);
    expect((await view(queue, { q: 'nothing-like-it' })).total).toBe(0);
    // by sender, any word of it; and pages of a broad search
    expect((await view(queue, { q: 'ann lee' })).total).toBe(1101);
    const p3 = await view(queue, { q: 'reel', page: '3' });
    expect([p3.total, p3.page, p3.pages, p3.rows.length]).toEqual([1100, 3, 44, 25]);
    // the passcode is not a word of the index
    expect((await view(queue, { q: PASSCODE })).total).toBe(0);
    expect(await shared.redis.exists(`${indexKeys(queue).word}${PASSCODE}`)).toBe(0);
  });

  it('pages the whole history by arrival, by server and by state, with BullMQ\'s counts', async () => {
    const queue = newQueue();
    for (let i = 0; i < 60; i++) {
      await enqueueDownloads(queue, [item(i % 3 === 0 ? 'b.example.com' : 'a.example.com', i, `Faspex package: clip ${i}`)], {});
    }
    const all = await view(queue);
    expect([all.total, all.pages, all.counts.waiting, all.rows.length]).toEqual([60, 3, 60, 25]);
    expect(all.rows[0]!.title).toBe('Faspex package: clip 59');
    expect(all.servers).toEqual(['a.example.com', 'b.example.com']);
    const last = await view(queue, { page: '3' });
    expect(titles(last)).toEqual(Array.from({ length: 10 }, (_, i) => `Faspex package: clip ${9 - i}`));
    const b = await view(queue, { server: 'b.example.com' });
    expect([b.total, b.rows.every((r) => r.server === 'b.example.com')]).toEqual([20, true]);
    const waiting = await view(queue, { show: 'waiting', page: '2' });
    expect([waiting.total, waiting.rows.length, waiting.rows.every((r) => r.state === 'waiting')]).toEqual([60, 25, true]);
    expect((await view(queue, { server: 'b.example.com', show: 'waiting' })).total).toBe(20);
    expect((await view(queue, { server: 'b.example.com', show: 'done' })).total).toBe(0);
  });

  it('orders packages of one millisecond by when Redis took them, not by their ids; an older one stays behind', async () => {
    const queue = newQueue();
    const ms = Date.parse('2026-12-07T09:00:00.000Z');
    const add = async (id: string, at: number) => {
      const data = { link: link('fx.example.com', id).url, kind: 'faspex4-external' as const, server: 'fx.example.com', packageId: id, source: { type: 'cli' as const }, queuedAt: new Date(at).toISOString() };
      await queue.add(`Faspex package: tie ${id}`, data, { jobId: `tie-${id}` });
      await indexJobs(queue, [entryOf(`tie-${id}`, data, `Faspex package: tie ${id}`)]);
    };
    // ids whose text order (1, 10, 11, 2, …) is not their arrival order
    for (let i = 1; i <= 11; i++) await add(String(i), ms);
    await add('12', ms + 1);
    await add('0', ms - 1);
    const ids = ['12', ...Array.from({ length: 11 }, (_, i) => String(11 - i)), '0'];
    expect(titles(await view(queue))).toEqual(ids.map((id) => `Faspex package: tie ${id}`));
    expect(titles(await view(queue, { q: 'tie', server: 'fx.example.com' }))).toEqual(ids.map((id) => `Faspex package: tie ${id}`));
  });

  it('indexes a fenced enqueue in its transaction, and nothing when the lease was lost', async () => {
    const queue = newQueue();
    const fenceKey = queue.toKey(`fence-${uniqueName('f')}`);
    const leaseKey = queue.toKey(`lease-${uniqueName('l')}`);
    await shared.redis.set(leaseKey, 'me');
    const fence = { fenceKey, leaseKey, holder: 'me', lost: (reason: string) => new Error(reason) };
    await enqueueDownloads(queue, [item('fx.example.com', 901, 'Faspex package: fenced falcon')], {}, { fence });
    expect(titles(await view(queue, { q: 'falcon' }))).toEqual(['Faspex package: fenced falcon']);
    await shared.redis.set(leaseKey, 'someone else');
    await expect(enqueueDownloads(queue, [item('fx.example.com', 902, 'Faspex package: fenced gecko')], {}, { fence })).rejects.toThrow(/lease/);
    expect((await view(queue, { q: 'gecko' })).total).toBe(0);
    expect(await shared.redis.zcard(indexKeys(queue).arrival)).toBe(1);
  });

  it('finds a renamed package by its title and its sender, and keeps its place', async () => {
    const queue = newQueue();
    const [r] = await enqueueDownloads(queue, [item('fx.example.com', 7, 'Faspex package: you have a new package')], {});
    await enqueueDownloads(queue, [item('fx.example.com', 8, 'Faspex package: later one')], {});
    expect(await renameJob(queue, r!.jobId, 'Q4 dailies, reel 12', 'dit@onset.example.net')).toBe(true);
    await (await queue.getJob(r!.jobId))!.updateProgress({ phase: 'transferring', bytes: 0, title: 'Q4 dailies, reel 12', sender: 'dit@onset.example.net' });
    for (const q of ['dailies', 'onset', 'new package']) expect([q, titles(await view(queue, { q }))]).toEqual([q, ['Q4 dailies, reel 12']]);
    expect(titles(await view(queue))).toEqual(['Faspex package: later one', 'Q4 dailies, reel 12']);
    // a job gone meanwhile is not brought back by a rename
    await (await queue.getJob(r!.jobId))!.remove();
    expect(await renameJob(queue, r!.jobId, 'Something else')).toBe(false);
    expect((await view(queue, { q: 'something' })).total).toBe(0);
  });

  it('never shows a job BullMQ removed for age, and drops its entry', { timeout: 120_000 }, async () => {
    const queue = newQueue();
    const opts = { removeOnComplete: { age: 1 } };
    const [old] = await enqueueDownloads(queue, [item('fx.example.com', 501, 'Faspex package: ancient aardvark')], opts);
    const worker = new Worker(queue.name, async () => 'ok', { connection: shared.redis.duplicate(), prefix: queue.opts.prefix! });
    cleanups.push(() => worker.close());
    await waitFor(async () => (await queue.getJobState(old!.jobId)) === 'completed', { what: 'the old job to complete', timeoutMs: 30_000 });
    expect(titles(await view(queue, { q: 'aardvark', show: 'done' }))).toEqual(['Faspex package: ancient aardvark']);
    // BullMQ removes jobs past their age when another job finishes
    let n = 0;
    await waitFor(async () => {
      const [r] = await enqueueDownloads(queue, [item('fx.example.com', 600 + n++, 'Faspex package: fresh')], opts);
      await waitFor(async () => (await queue.getJobState(r!.jobId)) !== 'waiting', { what: 'a newer job to finish', timeoutMs: 30_000 });
      return !(await queue.getJob(old!.jobId));
    }, { what: 'BullMQ to remove the old job by age', timeoutMs: 60_000, intervalMs: 200 });
    // the index still has it until something reads it
    expect(await shared.redis.zscore(indexKeys(queue).arrival, old!.jobId)).not.toBeNull();
    for (const q of [{ q: 'aardvark' }, {}, { server: 'fx.example.com' }, { q: 'aardvark', show: 'done' }] as Record<string, string>[]) {
      expect((await view(queue, q)).rows.map((r) => r.id)).not.toContain(old!.jobId);
    }
    expect(await shared.redis.zscore(indexKeys(queue).arrival, old!.jobId)).toBeNull();
    expect(await shared.redis.hexists(indexKeys(queue).doc, old!.jobId)).toBe(0);
    expect(await shared.redis.exists(`${indexKeys(queue).word}aardvark`)).toBe(0);
  });

  it('the sweep drops entries of jobs removed behind its back and indexes jobs added without it', async () => {
    const queue = newQueue();
    const [a] = await enqueueDownloads(queue, [item('gone.example.com', 701, 'Faspex package: removed by the board')], {});
    await queue.add('Faspex package: added by hand hornet', { link: link('fx.example.com', 702).url, kind: 'faspex4-external', server: 'fx.example.com', packageId: '702', source: { type: 'cli' }, queuedAt: new Date().toISOString() }, { jobId: 'by-hand' });
    // removed as bull-board does (Job.remove), which the index never hears of
    await (await queue.getJob(a!.jobId))!.remove();
    expect(await sweepIndex(queue)).toEqual({ dropped: 1, indexed: 1 });
    expect(await shared.redis.smembers(indexKeys(queue).servers)).toEqual(['fx.example.com']);
    expect(titles(await view(queue, { q: 'hornet' }))).toEqual(['Faspex package: added by hand hornet']);
    expect(await sweepIndex(queue)).toEqual({ dropped: 0, indexed: 0 });
  });
});
