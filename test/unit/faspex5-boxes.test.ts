import { describe, expect, it } from 'vitest';
import { boxLabel, boxListPath, parseBackfill, parseBoxSpec } from '../../src/faspex/faspex5-box-spec.js';
import { parseFaspex5Clients } from '../../src/faspex/faspex5-clients.js';
import { nextOffset, pickBox, readListPage } from '../../src/faspex/faspex5-list.js';
import { pickRecipient, type RecipientChoice, type RecipientEntry } from '../../src/faspex/faspex5-recipient.js';

describe('box specs', () => {
  it.each([
    ['inbox', { kind: 'inbox' }, 'inbox/packages'],
    ['shared_inbox:Ingest desk', { kind: 'shared_inbox', name: 'Ingest desk' }, 'shared_inboxes/7/packages'],
    ['workgroup: Dailies ', { kind: 'workgroup', name: 'Dailies' }, 'workgroups/7/packages'],
  ])('%s', (text, spec, path) => {
    expect(parseBoxSpec(text, 'X')).toEqual(spec);
    expect(boxListPath({ ...parseBoxSpec(text, 'X'), id: '7' })).toBe(path);
    expect(parseBoxSpec(boxLabel(parseBoxSpec(text, 'X')), 'X')).toEqual(spec);
  });
  it.each(['outbox', 'shared_inbox:', 'workgroup', 'Inbox', ''])('refuses %j', (text) => {
    expect(() => parseBoxSpec(text, 'FASPEX5_CLIENTS at h')).toThrow(/FASPEX5_CLIENTS at h: box .* is not "inbox"/);
  });
  it.each([
    [undefined, { kind: 'none' }],
    ['all', { kind: 'all' }],
    ['2026-01-31', { kind: 'since', since: '2026-01-31T00:00:00.000Z' }],
    ['2026-01-31T12:00:00Z', { kind: 'since', since: '2026-01-31T12:00:00.000Z' }],
  ])('backfill %j', (text, want) => expect(parseBackfill(text, 'X')).toEqual(want));
  it.each(['yes', '31/01/2026', '2026-13-45'])('refuses backfill %j', (text) => expect(() => parseBackfill(text, 'X')).toThrow(/backfill/));

  it('FASPEX5_CLIENTS takes boxes, sweep_seconds and backfill, with defaults', () => {
    const base = { client_id: 'c', user: 'u', private_key_file: '/k.pem' };
    const [a, b] = [...parseFaspex5Clients(JSON.stringify({ a: base, b: { ...base, boxes: ['inbox', 'workgroup:W'], sweep_seconds: 60, backfill: 'all' } })).values()];
    expect(a).toMatchObject({ boxes: [{ kind: 'inbox' }], backfill: { kind: 'none' } });
    expect(a!.sweepSeconds).toBeUndefined();
    expect(b).toMatchObject({ boxes: [{ kind: 'inbox' }, { kind: 'workgroup', name: 'W' }], sweepSeconds: 60, backfill: { kind: 'all' } });
    expect(() => parseFaspex5Clients(JSON.stringify({ a: { ...base, boxes: ['inbox', 'inbox'] } }))).toThrow(/named twice/);
    expect(() => parseFaspex5Clients(JSON.stringify({ a: { ...base, sweep_seconds: 1 } }))).toThrow(/at least 5/);
    expect(() => parseFaspex5Clients(JSON.stringify({ a: { ...base, boxes: [] } }))).toThrow(/boxes is empty/);
  });
});

describe('pickRecipient: the entry of the box being read, not blindly the first', () => {
  const alice: RecipientEntry = { id: '101', name: 'alice', email: 'alice@example.com', recipient_type: 'user' };
  const bob: RecipientEntry = { id: '102', name: 'bob', recipient_type: 'user' };
  const desk: RecipientEntry = { id: '900', name: 'Desk', recipient_type: 'shared_inbox' };
  const team: RecipientEntry = { id: '901', name: 'Team', recipient_type: 'workgroup' };
  it.each<[string, RecipientEntry[], RecipientChoice, object]>([
    ['own inbox: the user by name', [bob, alice], { user: 'alice', box: { kind: 'inbox' } }, { recipient_user_id: '101' }],
    ['own inbox: the user by id', [bob, alice], { user: 'someone', userId: '101', box: { kind: 'inbox' } }, { recipient_user_id: '101' }],
    ['own inbox: the user by e-mail, any case', [alice], { user: 'Alice@Example.com', box: { kind: 'inbox' } }, { recipient_user_id: '101' }],
    ['own inbox, user not a recipient: none (Faspex refuses)', [bob, desk], { user: 'alice', box: { kind: 'inbox' } }, {}],
    ['shared inbox read: its entry, though a user comes first', [bob, desk], { user: 'alice', box: { kind: 'shared_inbox', id: '900' } }, { recipient_workgroup_id: '900' }],
    ['workgroup read: its entry, not the shared inbox', [desk, team], { user: 'alice', box: { kind: 'workgroup', id: '901' } }, { recipient_workgroup_id: '901' }],
    ['same id, other type: no match', [desk], { user: 'alice', box: { kind: 'workgroup', id: '900' } }, {}],
    ['no box: the user first', [desk, alice], { user: 'alice' }, { recipient_user_id: '101' }],
    ['no box, user absent: a box the user reads', [bob, desk], { user: 'alice', boxes: [{ kind: 'shared_inbox', id: '900' }] }, { recipient_workgroup_id: '900' }],
    ['no box, nothing known: the first (as ascli)', [team, bob], { user: 'alice' }, { recipient_workgroup_id: '901' }],
    ['external recipient only: none', [{ id: '5', recipient_type: 'external_user' }], {}, {}],
    ['no recipients', [], { user: 'alice' }, {}],
  ])('%s', (_, recipients, choice, want) => expect(pickRecipient(recipients, choice)).toEqual(want));
});

describe('list pages', () => {
  it.each<[number, number, number | undefined, number | undefined]>([
    [100, 100, 250, 100],
    [250, 50, 250, undefined],
    [100, 0, 250, undefined], // a server that miscounts: an empty page ends it
    [100, 100, undefined, 100],
    [50_000, 500, 90_000, undefined], // capped
  ])('held %i after a page of %i, total %s → %s', (held, len, total, want) => expect(nextOffset(held, len, total)).toBe(want));

  it('skips entries without an id but counts them, and refuses a body without packages', () => {
    const page = readListPage({ total_count: 3, packages: [{ id: 1, title: 'a', status: 'completed' }, { title: 'no id' }, { id: '3' }] }, 'h');
    expect(page.packages.map((p) => p.id)).toEqual(['1', '3']);
    expect(page.unreadable).toBe(1);
    expect(() => readListPage({ items: [] }, 'h')).toThrow(/without a "packages" array/);
  });

  it('keeps only exact name matches of a q search', () => {
    const answer = { workgroups: [{ id: 1, name: 'Ingest archive' }, { id: 2, name: 'Ingest' }, { id: 3, name: 'ingest' }] };
    expect(pickBox(answer, { kind: 'workgroup', name: 'Ingest' }, 'h', 'u')).toEqual({ kind: 'workgroup', name: 'Ingest', id: '2' });
    expect(() => pickBox(answer, { kind: 'workgroup', name: 'Ingest desk' }, 'h', 'u')).toThrow(/not among the workgroups that user u belongs to on h \(similar names: "Ingest archive"/);
    expect(() => pickBox({ workgroups: [{ id: 1, name: 'A' }, { id: 2, name: 'A' }] }, { kind: 'workgroup', name: 'A' }, 'h', 'u')).toThrow(/names 2/);
  });
});
