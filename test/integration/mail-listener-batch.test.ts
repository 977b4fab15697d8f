import { ImapFlow, type FetchQueryObject, type ImapFlowOptions, type SequenceString } from 'imapflow';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { enqueueDownloads, type EnqueueResult } from '../../src/queue/producer.js';
import type { EnqueueItem } from '../../src/mail/listener.js';
import { waitFor } from '../support/temp.js';
import { fixture, jobId, notification, startHarness, type Harness } from '../fixtures/mail/listener-harness.js';

/**
 * The listener handles new mail per chunk of UIDs: these check the round trips per chunk (one
 * enqueue, one FETCH of the small mails whole, one of parts for alike big mails), that a chunk of mixed mail still ends each mail
 * its own way, and that the poison-mail rule still blames only the mail that kills the connection.
 */
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** UIDs of an IMAP sequence set as the listener writes it (numbers and a:b runs). */
function uidsOf(range: SequenceString | number[] | unknown): number[] {
  return String(range)
    .split(',')
    .flatMap((item) => {
      const [a, b] = item.split(':').map(Number);
      return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
    });
}

/**
 * An ImapFlow whose content fetches (a small mail whole, a big one's parts) are recorded, and that
 * drops its connection when one includes `killer`.
 */
function instrumented(partFetches: number[][], killer?: number, onContentFetch?: (uids: number[]) => void): (options: ImapFlowOptions) => ImapFlow {
  return (options) => {
    const client = new ImapFlow(options);
    const fetch = client.fetch.bind(client);
    const fetchOne = client.fetchOne.bind(client);
    const kill = (uids: number[]) => {
      if (killer === undefined || !uids.includes(killer)) return;
      client.close();
      throw new Error(`connection dropped while reading uid ${killer} (simulated)`);
    };
    client.fetch = ((range: SequenceString, query: FetchQueryObject, opts?: { uid?: boolean }) => {
      if (!query.bodyParts && !query.source) return fetch(range, query, opts);
      partFetches.push(uidsOf(range));
      onContentFetch?.(uidsOf(range));
      kill(uidsOf(range));
      return fetch(range, query, opts);
    }) as typeof client.fetch;
    client.fetchOne = (async (seq: SequenceString, query: FetchQueryObject, opts?: { uid?: boolean }) => {
      if (query.bodyParts || query.source) {
        partFetches.push(uidsOf(seq));
        kill(uidsOf(seq));
      }
      return fetchOne(seq, query, opts);
    }) as typeof client.fetchOne;
    return client;
  };
}

describe('mail listener: a backlog is handled per chunk', () => {
  it('queues 25 waiting mails with one enqueue and one FETCH of their content per chunk, then marks them all', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-chunks');
    for (let i = 1; i <= 25; i++) await h.dovecot.deliver(notification(500 + i));
    const calls: number[] = [];
    const partFetches: number[][] = [];
    const queue = h.queue;
    const listener = h.newListener({
      tuning: { chunkSize: 10, backoffBaseMs: 100, backoffMaxMs: 500 },
      createClient: instrumented(partFetches),
      enqueue: (items: EnqueueItem[]): Promise<EnqueueResult[]> => {
        calls.push(items.length);
        return enqueueDownloads(queue, items, { attempts: 1 });
      },
    });
    listener.start();
    const reports = await h.waitForReports(25);
    expect(calls).toEqual([10, 10, 5]);
    expect(partFetches).toEqual([Array.from({ length: 10 }, (_, i) => i + 1), Array.from({ length: 10 }, (_, i) => i + 11), Array.from({ length: 5 }, (_, i) => i + 21)]);
    expect(reports.map((r) => [r.uid, r.outcome, r.jobsAdded])).toEqual(Array.from({ length: 25 }, (_, i) => [i + 1, 'queued', 1]));
    expect(await h.jobIds()).toEqual(Array.from({ length: 25 }, (_, i) => jobId(501 + i)).sort());
    await waitFor(async () => (await h!.redis.hget(listener.state.key, 'lastUid')) === '25', { what: 'progress at 25' });
    const job = await h.queue.getJob(jobId(507));
    expect(job?.data.source).toMatchObject({ type: 'mail', uid: 7, subject: 'Package 507' });

    const client = await h.imapClient();
    await client.mailboxOpen('INBOX');
    const flags: string[][] = [];
    for await (const msg of client.fetch('1:*', { uid: true, flags: true }, { uid: true })) flags.push([...(msg.flags ?? [])]);
    await client.logout();
    expect(flags).toHaveLength(25);
    for (const f of flags) expect(f).toContain('$FaspexQueued');
  });

  it('ends each mail of one chunk its own way: unparseable, no link, huge attachment, duplicate, good', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-mixed');
    const poison = [
      'From: x@example.com', 'Subject: poison', 'Message-ID: <poison-batch@example.com>', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b', '',
      ...Array.from({ length: 1100 }, () => '--b\r\nContent-Type: text/plain\r\n\r\nx'), '--b--', '',
    ].join('\r\n');
    const big = Buffer.alloc(20 * 1024 * 1024, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
    const withAttachment = [
      'From: Faspex <faspex@faspex.example.com>', 'Subject: big', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="B"', '',
      '--B', 'Content-Type: text/plain; charset=utf-8', '', 'To view the package, go to https://faspex.example.com/aspera/faspex/received/602',
      '--B', 'Content-Type: application/octet-stream; name="huge.bin"', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="huge.bin"', '',
      big, '--B--', '',
    ].join('\r\n');
    await h.dovecot.deliver(notification(601));
    await h.dovecot.deliver(poison);
    await h.dovecot.deliver(fixture('submission-invitation.eml'));
    await h.dovecot.deliver(withAttachment);
    await h.dovecot.deliver(notification(601));
    await h.dovecot.deliver(notification(603));
    const calls: number[] = [];
    const queue = h.queue;
    const listener = h.newListener({
      enqueue: (items: EnqueueItem[]): Promise<EnqueueResult[]> => {
        calls.push(items.length);
        return enqueueDownloads(queue, items, { attempts: 1 });
      },
    });
    listener.start();
    const reports = await h.waitForReports(6);
    expect(reports.map((r) => [r.uid, r.outcome, r.jobsAdded])).toEqual([
      [1, 'queued', 1],
      [2, 'failed', 0],
      [3, 'no-link', 0],
      [4, 'queued', 1],
      [5, 'queued', 0],
      [6, 'queued', 1],
    ]);
    expect(calls).toEqual([4]);
    expect(reports[1]!.reason).toMatch(/child nodes/);
    expect(reports[3]!.bytesFetched).toBeLessThan(64 * 1024);
    expect(await listener.state.skipped()).toMatchObject([{ uid: 2, messageId: '<poison-batch@example.com>', kind: 'unreadable' }]);
    expect(await h.jobIds()).toEqual([jobId(601), jobId(602), jobId(603)].sort());
    // the first mail that announced a package is its source, as if read one by one
    expect((await h.queue.getJob(jobId(601)))?.data.source).toMatchObject({ uid: 1 });
  });

  it('gives up on the one mail whose reading kills the connection, and queues the rest of its chunk', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-killer');
    for (let i = 1; i <= 5; i++) await h.dovecot.deliver(notification(700 + i));
    const partFetches: number[][] = [];
    const disconnects: string[] = [];
    const listener = h.newListener({ createClient: instrumented(partFetches, 3) });
    listener.on('disconnected', (d) => disconnects.push(d.reason));
    listener.start();
    const reports = await h.waitForReports(5);
    expect(reports.map((r) => [r.uid, r.outcome])).toEqual([
      [1, 'queued'],
      [2, 'queued'],
      [3, 'failed'],
      [4, 'queued'],
      [5, 'queued'],
    ]);
    // one read in the batch and two alone: three reads died, the fourth gave up without reading
    expect(reports[2]!.reason).toMatch(/ended the IMAP connection 3 times/);
    expect(disconnects).toHaveLength(3);
    expect(partFetches.filter((uids) => uids.includes(3))).toHaveLength(3);
    expect(partFetches[0]).toEqual([1, 2, 3, 4, 5]);
    expect(await h.jobIds()).toEqual([701, 702, 704, 705].map(jobId).sort());
    expect(await listener.state.skipped()).toMatchObject([{ uid: 3, kind: 'unreadable' }]);
    expect(await h.redis.hlen(`${listener.state.key}:attempts`)).toBe(0);
  });

  it('passes over a mail expunged between the listing and the reading: no record, no failure, the rest queued', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-expunged');
    for (let i = 1; i <= 3; i++) await h.dovecot.deliver(notification(900 + i));
    const harness = h;
    let expunged = false;
    const failures: unknown[] = [];
    const listener = h.newListener({
      events: { mail: (r) => harness.reports.push(r), 'mail-failed': (r) => failures.push(r) },
      // the first content FETCH waits until another client has deleted UID 2, as a person or a
      // rule would between the listener's listing (UID, size, date) and its reading
      createClient: (options) => {
        const client = new ImapFlow(options);
        const fetch = client.fetch.bind(client);
        client.fetch = ((range: SequenceString, query: FetchQueryObject, opts?: { uid?: boolean }) => {
          if (!query.source || expunged) return fetch(range, query, opts);
          return (async function* () {
            const other = await harness.imapClient();
            await other.mailboxOpen('INBOX');
            expect(await other.messageDelete('2', { uid: true })).toBe(true);
            await other.logout();
            expunged = true;
            yield* fetch(range, query, opts);
          })();
        }) as typeof client.fetch;
        return client;
      },
    });
    listener.start();
    await h.waitForReports(2);
    await waitFor(async () => (await h!.redis.hget(listener.state.key, 'lastUid')) === '3', { what: 'progress at 3' });
    expect(expunged).toBe(true);
    expect(h.reports.map((r) => [r.uid, r.outcome])).toEqual([
      [1, 'queued'],
      [3, 'queued'],
    ]);
    expect(failures).toEqual([]);
    expect(await listener.state.skipped()).toEqual([]);
    expect(await h.jobIds()).toEqual([901, 903].map(jobId).sort());
  });

  it('reads the next chunk from IMAP while this one is being queued in Redis', async () => {
    h = await startHarness(inject('redisUrl'), 'ml-overlap');
    for (let i = 1; i <= 20; i++) await h.dovecot.deliver(notification(800 + i));
    const partFetches: number[][] = [];
    let secondChunkFetched!: () => void;
    const secondChunk = new Promise<void>((resolve) => (secondChunkFetched = resolve));
    const order: string[] = [];
    const queue = h.queue;
    const listener = h.newListener({
      tuning: { chunkSize: 10 },
      createClient: instrumented(partFetches, undefined, (uids) => {
        if (uids.includes(11)) {
          order.push('fetch 11-20');
          secondChunkFetched();
        }
      }),
      enqueue: async (items: EnqueueItem[]): Promise<EnqueueResult[]> => {
        const first = items.some((i) => i.source.uid === 1);
        // the first chunk's jobs are held back until the second chunk is being read: a listener
        // that read one chunk at a time would wait here for ever (and the reports never come)
        if (first) await secondChunk;
        order.push(first ? 'enqueue 1-10' : 'enqueue 11-20');
        return enqueueDownloads(queue, items, { attempts: 1 });
      },
    });
    listener.start();
    const reports = await h.waitForReports(20);
    expect(order).toEqual(['fetch 11-20', 'enqueue 1-10', 'enqueue 11-20']);
    // still settled in UID order, each chunk's progress after its own jobs
    expect(reports.map((r) => r.uid)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await h.jobIds()).toEqual(Array.from({ length: 20 }, (_, i) => jobId(801 + i)).sort());
    await waitFor(async () => (await h!.redis.hget(listener.state.key, 'lastUid')) === '20', { what: 'progress at 20' });
  });
});
