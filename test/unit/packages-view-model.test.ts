import { describe, expect, it } from 'vitest';
import { displayName, etaSeconds, failureWords, folderName, formatAgo, formatBytes, formatDuration, packageRow, parsePageQuery, queryString, selectRows, type BullState, type JobLike, type PackageRow } from '../../src/dashboard/packages/view-model.js';

const PASSCODE = 'feedface'.repeat(5);
const base: JobLike = {
  id: 'faspex4-external-fx.example.com-7',
  name: 'Faspex package: Q3 rushes',
  data: { server: 'fx.example.com', packageId: '7', link: `https://fx.example.com/x?passcode=${PASSCODE}`, queuedAt: '2026-12-03T10:00:00.000Z', source: { type: 'mail', subject: 'Faspex package: Q3 rushes', from: 'Faspex <faspex@fx.example.com>' } },
  attemptsMade: 0,
  opts: { attempts: 5 },
  timestamp: Date.parse('2026-12-03T10:00:00.000Z'),
};
const job = (over: Partial<JobLike>): JobLike => ({ ...base, ...over });

describe('packageRow: job → row', () => {
  const cases: { name: string; job: JobLike; state: BullState; expected: Partial<PackageRow> }[] = [
    { name: 'waiting: named by subject, sender from the mail', job: base, state: 'waiting', expected: { title: 'Faspex package: Q3 rushes', sender: 'Faspex', state: 'waiting', stateWords: 'waiting', progress: null, size: null, canRetry: false, canRemove: true } },
    { name: 'prioritized reads as waiting', job: base, state: 'prioritized', expected: { state: 'waiting' } },
    { name: 'active, resolving', job: job({ progress: { phase: 'resolving', bytes: 0 } }), state: 'active', expected: { state: 'downloading', stateWords: 'resolving the link', progress: null, canRemove: false } },
    {
      name: 'active, transferring: bar, rate, ETA, title and sender from the server',
      job: job({ progress: { phase: 'transferring', bytes: 250, total: 1000, rateBps: 50, title: 'Q3 rushes', sender: 'ann@studio.example.com', folder: 'fx.example.com_7_Q3 rushes' } }),
      state: 'active',
      expected: { title: 'Q3 rushes', sender: 'ann@studio.example.com', size: 1000, stateWords: 'downloading', progress: { bytes: 250, total: 1000, percent: 25, rateBps: 50, etaSeconds: 15 }, folder: 'fx.example.com_7_Q3 rushes' },
    },
    { name: 'transferring with no total yet: no percent, no ETA', job: job({ progress: { phase: 'transferring', bytes: 10 } }), state: 'active', expected: { progress: { bytes: 10, total: null, percent: null, rateBps: null, etaSeconds: null } } },
    {
      name: 'delayed after a failure: retrying, reason in words',
      job: job({ attemptsMade: 1, failedReason: 'fx.example.com answered 503 [SERVER_ERROR]' }),
      state: 'delayed',
      expected: { state: 'retrying', stateWords: 'retrying soon', attempts: 1, maxAttempts: 5, failure: { headline: 'The Faspex server had an error.', detail: 'fx.example.com answered 503' } },
    },
    {
      name: 'done: folder and size from the result',
      job: job({ returnvalue: { folder: '/dl/fx.example.com_7_Q3 rushes', title: 'Q3 rushes', bytesTransferred: 4096, alreadyComplete: false, files: 2 }, progress: { phase: 'done', bytes: 4096, total: 4096 } }),
      state: 'completed',
      expected: { title: 'Q3 rushes', state: 'done', stateWords: 'done', size: 4096, folder: '/dl/fx.example.com_7_Q3 rushes', failure: null, canRetry: false },
    },
    {
      name: 'delayed, waiting for disk space: a wait with the numbers, no failure',
      job: job({ progress: { phase: 'waiting', bytes: 0, waitingFor: 'waiting for disk space: 8.0 MiB still to download, 2.0 MiB free, 0 B kept back (DOWNLOAD_DIR_RESERVE_MB)' } }),
      state: 'delayed',
      expected: { state: 'retrying', stateWords: 'waiting for disk space: 8.0 MiB still to download, 2.0 MiB free, 0 B kept back (DOWNLOAD_DIR_RESERVE_MB)', failure: null, attempts: 0 },
    },
    { name: 'active while a waiting job looks again: still the wait', job: job({ progress: { phase: 'waiting', bytes: 0, waitingFor: 'waiting for disk space: 1 B still to download' } }), state: 'active', expected: { stateWords: 'waiting for disk space: 1 B still to download' } },
    {
      name: 'done, hand-off failed for good: downloaded, the failure in words',
      job: job({ returnvalue: { folder: 'f', bytesTransferred: 5 }, progress: { phase: 'done', bytes: 5, handoff: { state: 'failed', final: true, reason: 'ON_COMPLETE_COMMAND (/bin/x) exited with status 3 [HANDOFF_FAILED]', at: 1 } } }),
      state: 'completed',
      expected: { state: 'done', stateWords: 'downloaded, hand-off failed', failure: { headline: 'The package is downloaded; ON_COMPLETE_COMMAND failed on it.', detail: 'ON_COMPLETE_COMMAND (/bin/x) exited with status 3' } },
    },
    { name: 'done, hand-off failed, to be retried', job: job({ progress: { phase: 'done', bytes: 5, handoff: { state: 'failed', final: false, reason: 'x [HANDOFF_FAILED]', at: 1 } } }), state: 'completed', expected: { stateWords: 'downloaded, hand-off failed (retrying)' } },
    { name: 'done, hand-off running', job: job({ progress: { phase: 'done', bytes: 5, handoff: { state: 'running', at: 1 } } }), state: 'completed', expected: { stateWords: 'downloaded, handing off', failure: null } },
    { name: 'done, hand-off done', job: job({ progress: { phase: 'done', bytes: 5, handoff: { state: 'done', at: 1 } } }), state: 'completed', expected: { stateWords: 'done', failure: null } },
    { name: 'done, already on disk', job: job({ returnvalue: { folder: 'f', bytesTransferred: 0, alreadyComplete: true } }), state: 'completed', expected: { stateWords: 'done (was already on disk)' } },
    {
      name: 'failed for good: retry offered, passcode masked in the reason',
      job: job({ attemptsMade: 1, failedReason: `the server sent a web page for https://fx.example.com/x?passcode=${PASSCODE} [LINK_EXPIRED]` }),
      state: 'failed',
      expected: { state: 'failed', canRetry: true, canRemove: true, failure: { headline: 'The link has expired or its passcode is no longer valid.', detail: 'the server sent a web page for https://fx.example.com/x?passcode=***' } },
    },
  ];
  for (const c of cases) it(c.name, () => expect(packageRow(c.job, c.state)).toMatchObject(c.expected));

  it('never carries the passcode anywhere in the row', () => {
    const row = packageRow(job({ name: `see https://fx.example.com/x?passcode=${PASSCODE}`, failedReason: `x?passcode=${PASSCODE}` }), 'failed');
    expect(JSON.stringify(row)).not.toContain(PASSCODE);
  });
});

describe('failureWords', () => {
  const cases: [string | undefined, ReturnType<typeof failureWords>][] = [
    [undefined, null],
    ['', null],
    ['DOWNLOAD_DIR has 0 bytes free [DISK_FULL]', { headline: 'DOWNLOAD_DIR is full.', detail: 'DOWNLOAD_DIR has 0 bytes free' }],
    ['something new [NOT_A_CODE]', { headline: 'something new.', detail: '' }],
    ['job stalled more than allowable limit', { headline: 'The worker running it stopped answering too many times (crashed or lost Redis).', detail: 'job stalled more than allowable limit' }],
    ['connection reset by peer', { headline: 'connection reset by peer.', detail: '' }],
  ];
  for (const [reason, expected] of cases) it(String(reason), () => expect(failureWords(reason)).toEqual(expected));
});

describe('etaSeconds', () => {
  const cases: [number, number | null, number | null, number | null][] = [
    [0, 1000, 100, 10],
    [999, 1000, 100, 1],
    [1000, 1000, 100, 0],
    [10, null, 100, null],
    [10, 1000, null, null],
    [10, 1000, 0, null],
  ];
  for (const [bytes, total, rate, expected] of cases) it(`${bytes}/${total} at ${rate}`, () => expect(etaSeconds(bytes, total, rate)).toBe(expected));
});

describe('formatting', () => {
  it.each([
    [null, '—'],
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KB'],
    [3_000_000, '2.9 MB'],
    [7_340_032_000, '6.8 GB'],
    [50 * 1024 ** 3, '50 GB'],
  ])('formatBytes(%s) = %s', (n, s) => expect(formatBytes(n)).toBe(s));
  it.each([
    [null, '—'],
    [42, '42 s'],
    [60, '1 min'],
    [125, '2 min 5 s'],
    [3725, '1 h 2 min'],
    [3 * 86400 + 7200, '3 d 2 h'],
  ])('formatDuration(%s) = %s', (n, s) => expect(formatDuration(n)).toBe(s));
  const now = new Date('2026-12-03T12:00:00Z');
  it.each([
    [undefined, 'never'],
    ['2026-12-03T11:59:55Z', 'just now'],
    ['2026-12-03T11:59:00Z', '60 s ago'],
    ['2026-12-03T11:30:00Z', '30 min ago'],
    ['2026-12-03T06:00:00Z', '6 h ago'],
    ['2026-11-20T06:00:00Z', '2026-11-20'],
  ])('formatAgo(%s) = %s', (iso, s) => expect(formatAgo(iso, now)).toBe(s));
});

describe('page query', () => {
  it.each([
    [{}, { show: [], server: null, search: null, page: 1 }],
    [{ show: 'failed,done,bogus', page: '3' }, { show: ['failed', 'done'], page: 3 }],
    [{ show: ['waiting', 'waiting'], q: '  rushes ', server: 'fx.example.com' }, { show: ['waiting'], search: 'rushes', server: 'fx.example.com' }],
    [{ page: '-2' }, { page: 1 }],
    [{ page: 'x', q: '' }, { page: 1, search: null }],
  ])('%j', (q, expected) => expect(parsePageQuery(q)).toMatchObject(expected));
  it('round-trips through queryString, defaults left out', () => {
    const q = parsePageQuery({ show: 'failed', q: 'Q3 rushes', page: '2' });
    expect(queryString(q)).toBe('?show=failed&q=Q3+rushes&page=2');
    expect(parsePageQuery(Object.fromEntries(new URLSearchParams(queryString(q))))).toEqual(q);
    expect(queryString(parsePageQuery({}))).toBe('');
  });
});

describe('selectRows: filter, search, newest first, pages', () => {
  const rows = Array.from({ length: 60 }, (_, i) => packageRow(job({ id: `j${i}`, name: i % 2 ? `Odd ${i}` : `Even ${i}`, data: { ...base.data, server: i < 50 ? 'a.example.com' : 'b.example.com', queuedAt: new Date(Date.UTC(2026, 11, 3, 0, i)).toISOString() } }), i % 3 === 0 ? 'failed' : 'waiting'));
  const q = (over: Record<string, unknown>) => parsePageQuery(over);
  it('newest first, 25 a page', () => {
    const r = selectRows(rows, q({}));
    expect([r.total, r.pages, r.page, r.rows.length, r.rows[0]!.id, r.rows[24]!.id]).toEqual([60, 3, 1, 25, 'j59', 'j35']);
  });
  it('the last page holds the rest; beyond it clamps', () => {
    expect(selectRows(rows, q({ page: '3' })).rows.map((r) => r.id)).toHaveLength(10);
    expect(selectRows(rows, q({ page: '9' })).page).toBe(3);
  });
  it('by state', () => expect(selectRows(rows, q({ show: 'failed' })).total).toBe(20));
  it('by server', () => expect(selectRows(rows, q({ server: 'b.example.com' })).total).toBe(10));
  it('search title, case-insensitive', () => expect(selectRows(rows, q({ q: 'odd 5' })).rows.map((r) => r.id)).toEqual(['j59', 'j57', 'j55', 'j53', 'j51', 'j5']));
  it('search sender', () => expect(selectRows(rows, q({ q: 'FASPEX' })).total).toBe(60));
  it('nothing matches', () => expect(selectRows(rows, q({ q: 'zzz' }))).toMatchObject({ total: 0, pages: 1, page: 1, rows: [] }));
});

describe('displayName and folderName', () => {
  it.each([
    ['Ann Lee via Faspex <faspex@fx.example.com>', 'Ann Lee via Faspex'],
    ['"Lee, Ann" <ann@x.example>', 'Lee, Ann'],
    ['<faspex@fx.example.com>', 'faspex@fx.example.com'],
    ['faspex@fx.example.com', 'faspex@fx.example.com'],
    [undefined, undefined],
  ])('displayName(%s) = %s', (from, name) => expect(displayName(from)).toBe(name));
  it.each([
    ['/data/downloads/fx_7_Q3 rushes', 'fx_7_Q3 rushes'],
    ['/data/downloads/fx_7_Q3 rushes/', 'fx_7_Q3 rushes'],
    ['fx_7', 'fx_7'],
  ])('folderName(%s) = %s', (path, name) => expect(folderName(path)).toBe(name));
});
