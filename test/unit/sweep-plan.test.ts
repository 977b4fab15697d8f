import { describe, expect, it } from 'vitest';
import type { Backfill } from '../../src/faspex/faspex5-box-spec.js';
import type { ListedPackage } from '../../src/faspex/faspex5-list.js';
import { serversAsked } from '../../src/sweep/mail-trigger.js';
import { CHANGED_SINCE_MARGIN_MS, planSweep, prunable, sweepMode } from '../../src/sweep/sweep-plan.js';

const p = (id: string, status: string, created = '2026-06-01T00:00:00Z'): ListedPackage => ({ id, status, created_time: created });
const listed = [p('1', 'completed'), p('2', 'expiring'), p('3', 'deleting'), p('4', 'deleted'), p('5', 'failed'), p('6', 'uploading'), p('7', 'completed', '2026-01-01T00:00:00Z')];
const none: Backfill = { kind: 'none' };

describe('planSweep', () => {
  it.each<[string, { initialised: boolean; backfill: Backfill; done: string[] }, { queue: string[]; remember: string[] }]>([
    ['later sweeps queue completed packages only', { initialised: true, backfill: none, done: [] }, { queue: ['1', '7'], remember: [] }],
    ['done packages are never queued again', { initialised: true, backfill: none, done: ['1'] }, { queue: ['7'], remember: [] }],
    ['the first sweep remembers final ones, not one still uploading', { initialised: false, backfill: none, done: [] }, { queue: [], remember: ['1', '2', '3', '4', '5', '7'] }],
    ['backfill all: the first sweep queues every completed one', { initialised: false, backfill: { kind: 'all' }, done: [] }, { queue: ['1', '7'], remember: [] }],
    ['backfill since a date: newer ones queued, older remembered', { initialised: false, backfill: { kind: 'since', since: '2026-03-01T00:00:00.000Z' }, done: [] }, { queue: ['1'], remember: ['7'] }],
    ['backfill applies to the first sweep only', { initialised: true, backfill: { kind: 'since', since: '2026-03-01T00:00:00.000Z' }, done: [] }, { queue: ['1', '7'], remember: [] }],
  ])('%s', (_, input, want) => {
    const plan = planSweep({ listed, ...input, done: new Set(input.done) });
    expect(plan.queue.map((q) => q.id)).toEqual(want.queue);
    expect(plan.remember).toEqual(want.remember);
    expect(plan.shown).toEqual({ expiring: 1, deleting: 1, deleted: 1, failed: 1, uploading: 1 });
  });
});

describe('sweepMode', () => {
  const now = 10_000_000_000;
  it.each<[string, Parameters<typeof sweepMode>[0], boolean, object]>([
    ['first sweep: full', {}, true, { full: true }],
    ['no changed_since_date on this endpoint: full', { lastFullAt: now - 1000, lastStartedAt: now - 1000 }, false, { full: true }],
    ['recent full: incremental from the last start, less a margin', { lastFullAt: now - 60_000, lastStartedAt: now - 30_000 }, true, { full: false, changedSince: new Date(now - 30_000 - CHANGED_SINCE_MARGIN_MS).toISOString() }],
    ['full again after twelve periods', { lastFullAt: now - 12 * 300_000, lastStartedAt: now - 300_000 }, true, { full: true }],
  ])('%s', (_, history, has, want) => expect(sweepMode(history, now, { hasChangedSince: has, periodMs: 300_000 })).toEqual(want));
});

describe('prunable', () => {
  it('lets go of entries no listing shows, only when older than every listing', () => {
    const done = new Map([['a', 100], ['b', 100], ['c', 500]]);
    expect(prunable(done, new Set(['a']), 400)).toEqual(['b']);
  });
});

describe('serversAsked: a mail asks for a sweep of a Faspex 5 server', () => {
  const servers = [{ server: 'f5.example.com', senders: ['faspex@example.com'] }, { server: 'f5b.example.com:8443', senders: ['@partner.example'] }];
  it.each<[string, Parameters<typeof serversAsked>[0], string[]]>([
    ['by a known inbox link', { links: [{ kind: 'faspex5-inbox', server: 'f5.example.com' }] }, ['f5.example.com']],
    ['by a public link', { links: [{ kind: 'faspex5-public', server: 'f5b.example.com:8443' }] }, ['f5b.example.com:8443']],
    ['not by a Faspex 4 link on the same host', { links: [{ kind: 'faspex4-received', server: 'f5.example.com' }] }, []],
    ['by the host named in an unknown link form', { links: [], mentions: ['f5.example.com'] }, ['f5.example.com']],
    ['by a configured sender', { links: [], from: 'Faspex@Example.com' }, ['f5.example.com']],
    ['by a sender domain', { links: [], from: 'noreply@partner.example' }, ['f5b.example.com:8443']],
    ['not by a look-alike domain', { links: [], from: 'x@evilpartner.example' }, []],
  ])('%s', (_, decision, want) => expect(serversAsked(decision, servers)).toEqual(want));
});
