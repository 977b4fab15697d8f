import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { cachedSource, loadPackagesView } from '../../src/dashboard/packages/source.js';
import { parsePageQuery } from '../../src/dashboard/packages/view-model.js';

/** A queue that only counts how often it is read (the read itself is covered over real Redis). */
function countingQueue() {
  const calls = { jobs: 0 };
  const queue = { getJobs: async () => (calls.jobs++, []), getJobCounts: async () => ({ completed: 3 }) } as unknown as Queue;
  return { queue, calls };
}

describe('the packages page shares one read of the queue', () => {
  const q = parsePageQuery({});
  it('within cacheMs, every page and live feed gets the same read', async () => {
    const { queue, calls } = countingQueue();
    const source = cachedSource({ queue, inboxes: async () => [], cacheMs: 60_000 });
    const views = await Promise.all([loadPackagesView(source, q), loadPackagesView(source, q), loadPackagesView(source, parsePageQuery({ show: 'done' }))]);
    expect(calls.jobs).toBe(6); // one getJobs per BullMQ state, once
    expect(views.map((v) => v.counts.done)).toEqual([3, 3, 3]);
    source.invalidate();
    await loadPackagesView(source, q);
    expect(calls.jobs).toBe(12);
  });
  it('cacheMs 0 reads every time', async () => {
    const { queue, calls } = countingQueue();
    const source = cachedSource({ queue, inboxes: async () => [], cacheMs: 0 });
    await loadPackagesView(source, q);
    await loadPackagesView(source, q);
    expect(calls.jobs).toBe(12);
  });
  it('a failed read is not kept', async () => {
    let fail = true;
    const queue = { getJobs: async () => { if (fail) throw new Error('redis down'); return []; }, getJobCounts: async () => ({}) } as unknown as Queue;
    const source = cachedSource({ queue, inboxes: async () => [], cacheMs: 60_000 });
    await expect(loadPackagesView(source, q)).rejects.toThrow('redis down');
    fail = false;
    await expect(loadPackagesView(source, q)).resolves.toMatchObject({ total: 0 });
  });
});
