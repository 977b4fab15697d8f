import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { cachedSource, loadPackagesView } from '../../src/dashboard/packages/source.js';
import { parsePageQuery } from '../../src/dashboard/packages/view-model.js';

/** A queue that only counts how often it is read (the read itself is covered over real Redis). */
function countingQueue(fail: () => boolean = () => false) {
  const calls = { reads: 0 };
  const client = { defineCommand() {}, runCommand: async (name: string) => (name === 'zcard' ? 0 : name === 'zmscore' ? [] : []) };
  const queue = {
    toKey: (s: string) => `p:downloads:${s}`,
    getBackend: () => ({ client: Promise.resolve(client) }),
    getJobs: async () => [],
    getRanges: async () => [],
    getJobCounts: async () => {
      calls.reads++;
      if (fail()) throw new Error('redis down');
      return { completed: 3 };
    },
  } as unknown as Queue;
  return { queue, calls };
}

describe('the packages page shares one read per query', () => {
  const q = parsePageQuery({});
  it('within cacheMs, every page and live feed asking the same gets the same read', async () => {
    const { queue, calls } = countingQueue();
    const source = cachedSource({ queue, inboxes: async () => [], cacheMs: 60_000 });
    const views = await Promise.all([loadPackagesView(source, q), loadPackagesView(source, q), loadPackagesView(source, parsePageQuery({ show: 'done' })), loadPackagesView(source, parsePageQuery({ show: 'done' }))]);
    expect(calls.reads).toBe(2); // one per distinct query
    expect(views.map((v) => v.counts.done)).toEqual([3, 3, 3, 3]);
    source.invalidate();
    await loadPackagesView(source, q);
    expect(calls.reads).toBe(3);
  });
  it('cacheMs 0 reads every time', async () => {
    const { queue, calls } = countingQueue();
    const source = cachedSource({ queue, inboxes: async () => [], cacheMs: 0 });
    await loadPackagesView(source, q);
    await loadPackagesView(source, q);
    expect(calls.reads).toBe(2);
  });
  it('a failed read is not kept', async () => {
    let fail = true;
    const { queue } = countingQueue(() => fail);
    const source = cachedSource({ queue, inboxes: async () => [], cacheMs: 60_000 });
    await expect(loadPackagesView(source, q)).rejects.toThrow('redis down');
    fail = false;
    await expect(loadPackagesView(source, q)).resolves.toMatchObject({ total: 3, rows: [] });
  });
});
