import { describe, expect, it } from 'vitest';
import { applyInboxEvent, carryOver, effectiveStatus, initialStatus, type InboxEvent, type InboxStatus } from '../../src/mail/inbox-status.js';

const T0 = new Date('2026-12-03T10:00:00.000Z');
const TTL = 45_000;
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const start = initialStatus('default', 'ingest@mail/INBOX', T0, TTL);

function run(events: [number, InboxEvent][]): InboxStatus {
  return events.reduce((s, [t, e]) => applyInboxEvent(s, e, at(t), TTL), start);
}

describe('inbox status: events → status', () => {
  const cases: { name: string; events: [number, InboxEvent][]; expected: Partial<InboxStatus> }[] = [
    { name: 'starts not connected', events: [], expected: { connected: false, reason: 'connecting', mode: 'idle', backlog: 0 } },
    { name: 'connected with IDLE', events: [[1, { type: 'connected', idle: true }]], expected: { connected: true, reason: undefined, mode: 'idle' } },
    { name: 'connected without IDLE polls', events: [[1, { type: 'connected', idle: false }]], expected: { connected: true, mode: 'poll' } },
    {
      name: 'disconnected keeps the reason, masked',
      events: [[1, { type: 'connected', idle: true }], [2, { type: 'disconnected', reason: 'login failed for https://x.example/?passcode=hunter2hunter2' }]],
      expected: { connected: false, reason: 'login failed for https://x.example/?passcode=***' },
    },
    {
      name: 'a queued mail sets seen and queued',
      events: [[1, { type: 'connected', idle: true }], [5, { type: 'mail', queued: true }]],
      expected: { lastMailSeenAt: at(5).toISOString(), lastMailQueuedAt: at(5).toISOString() },
    },
    {
      name: 'a mail without a link is seen, not queued',
      events: [[5, { type: 'mail', queued: true }], [9, { type: 'mail', queued: false }]],
      expected: { lastMailSeenAt: at(9).toISOString(), lastMailQueuedAt: at(5).toISOString() },
    },
    { name: 'backlog counts down per mail, never below 0', events: [[1, { type: 'backlog', count: 2 }], [2, { type: 'mail', queued: false }], [3, { type: 'mail', queued: false }], [4, { type: 'mail', queued: false }]], expected: { backlog: 0 } },
    { name: 'backlog set exactly', events: [[1, { type: 'backlog', count: 250 }], [2, { type: 'backlog', count: 150 }]], expected: { backlog: 150 } },
    { name: 'a finished pass clears the backlog', events: [[1, { type: 'backlog', count: 3 }], [2, { type: 'synced' }]], expected: { backlog: 0 } },
    { name: 'standby', events: [[1, { type: 'standby' }]], expected: { connected: false, mode: 'standby', reason: 'standby: another listener holds this inbox' } },
    { name: 'stopped', events: [[1, { type: 'connected', idle: true }], [2, { type: 'stopped' }]], expected: { connected: false, reason: 'listener stopped' } },
    { name: 'every event moves staleAt on', events: [[1, { type: 'connected', idle: true }], [30, { type: 'heartbeat' }]], expected: { updatedAt: at(30).toISOString(), staleAt: at(75).toISOString(), connected: true } },
  ];
  for (const c of cases) it(c.name, () => expect(run(c.events)).toMatchObject(c.expected));
});

describe('inbox status: what a reader believes', () => {
  const connected = run([[0, { type: 'connected', idle: true }]]);
  const cases: { name: string; now: Date; connected: boolean; reason?: string }[] = [
    { name: 'fresh: as published', now: at(10), connected: true },
    { name: 'exactly at staleAt: still as published', now: at(45), connected: true },
    { name: 'past staleAt: not connected, and says since when', now: at(46), connected: false, reason: `no word from its listener since ${at(0).toISOString()}` },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = effectiveStatus(connected, c.now);
      expect(s.connected).toBe(c.connected);
      if (c.reason) expect(s.reason).toBe(c.reason);
    });
  }
});

describe('inbox status: a new publisher carries the mail history over', () => {
  const previous = run([[0, { type: 'connected', idle: true }], [5, { type: 'mail', queued: true }], [9, { type: 'mail', queued: false }]]);
  it.each([
    ['no earlier record', undefined, { connected: false, reason: 'connecting' }],
    ['an earlier record: its mail times, not its connection', previous, { lastMailSeenAt: at(9).toISOString(), lastMailQueuedAt: at(5).toISOString(), connected: false, reason: 'connecting' }],
  ] as const)('%s', (_name, prev, expected) => expect(carryOver(initialStatus('default', 'x', at(60), TTL), prev)).toMatchObject(expected));
  it('mail seen since wins over the earlier record', () => {
    const fresh = applyInboxEvent(initialStatus('default', 'x', at(60), TTL), { type: 'mail', queued: false }, at(61), TTL);
    expect(carryOver(fresh, previous)).toMatchObject({ lastMailSeenAt: at(61).toISOString(), lastMailQueuedAt: at(5).toISOString() });
  });
});
