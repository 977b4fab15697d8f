/**
 * How fast is a backlog cleared, and how big does `run` get doing it?
 * 10,000 notifications wait in the inbox when `faspex-ingest run` starts; measured: from the
 * listener's "watching mailbox" to the moment its Redis progress covers the last UID (every
 * mail's jobs are in Redis by then), against a bare imapflow fetch of the same mails' full source
 * on one connection. Peak RSS is the `run` process's VmHWM at the end.
 * The download queue is paused first: this measures mail in → jobs out, not 10,000 transfers
 * competing for the same two cores (the workers are still started, so their memory counts).
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { mailboxKey } from '../src/mail/mailbox-state.js';
import { QUEUE } from '../src/queue/queues.js';
import { imapClient, loadBacklog, notificationFor } from './support/mail-load.js';
import { fmt, log, printTable, runBenchmark } from './support/report.js';
import { logLines, peakRss, startStack, waitFor } from './support/stack.js';

const MAILS = Number(process.env.BENCH_BACKLOG_MAILS ?? 10_000);
const TARGET_RATE = 300;
const TARGET_RATIO = 0.5;
const TARGET_RSS_MB = 200;

runBenchmark('backlog', async () => {
  const stack = await startStack('backlog');
  const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE.downloads, { connection: redis, prefix: stack.prefix });
  try {
    const load = await loadBacklog(stack.dovecot, MAILS, (i) => notificationFor(stack.sim.baseUrl, 100_000 + i));
    log(`backlog of ${MAILS} mails (${(load.bytes / 1e6).toFixed(1)} MB) written and indexed in ${load.seconds.toFixed(1)} s`);

    // Baseline: the least any IMAP reader pays for these mails, on one connection.
    const bare = imapClient(stack.dovecot);
    await bare.connect();
    await bare.mailboxOpen('INBOX');
    const t0 = performance.now();
    let fetched = 0;
    for await (const msg of bare.fetch('1:*', { uid: true, source: true })) if (msg.source) fetched++;
    const bareSeconds = (performance.now() - t0) / 1000;
    // For scale, not the baseline: a reader that fetches mail one at a time (one round trip each).
    const oneByOne = Math.min(MAILS, 2000);
    const t1 = performance.now();
    for (let uid = 1; uid <= oneByOne; uid++) await bare.fetchOne(String(uid), { source: true }, { uid: true });
    const oneByOneRate = oneByOne / ((performance.now() - t1) / 1000);
    await bare.logout();
    if (fetched !== MAILS) throw new Error(`bare fetch returned ${fetched} of ${MAILS} mails`);
    const bareRate = MAILS / bareSeconds;
    log(`bare imapflow fetch: ${bareSeconds.toFixed(2)} s (${bareRate.toFixed(0)} mails/s)`);

    await queue.pause();
    const progressKey = mailboxKey(stack.prefix, stack.dovecot.user, stack.dovecot.host, 'INBOX');
    const spawnedAt = Date.now();
    const service = await stack.startService(['run']);
    const rssAtStart = peakRss(service.child.pid!);
    // lastUid is saved per chunk, after that chunk's jobs are acknowledged: when it reaches the highest UID, all are queued.
    await waitFor(async () => Number(await redis.hget(progressKey, 'lastUid')) >= MAILS, { what: 'the backlog to be queued', timeoutMs: 600_000, intervalMs: 50 });
    const doneAt = Date.now();
    const rss = peakRss(service.child.pid!);
    const watching = logLines(service.output(), /^watching mailbox$/)[0]?.time;
    if (!watching) throw new Error('the service never logged "watching mailbox"');
    const counts = await queue.getJobCounts();
    const queued = Object.values(counts).reduce((a, b) => a + b, 0);
    // a clean stop, so a --cpu-prof run (BENCH_NODE_ARGS) writes its profile
    await service.stop('SIGTERM');

    const seconds = (doneAt - watching) / 1000;
    const rate = MAILS / seconds;
    printTable(
      `backlog: ${MAILS} waiting mails → queued`,
      [
        { figure: 'mails queued per second', target: `≥ ${TARGET_RATE}/s`, measured: `${rate.toFixed(0)}/s`, baseline: `${bareRate.toFixed(0)}/s bare fetch`, ratio: fmt(rate / bareRate), pass: rate >= TARGET_RATE },
        { figure: 'ratio to bare imapflow fetch', target: `≥ ${TARGET_RATIO}`, measured: fmt(rate / bareRate), baseline: '1.00', ratio: fmt(rate / bareRate), pass: rate / bareRate >= TARGET_RATIO },
        { figure: 'peak RSS of run (VmHWM)', target: `≤ ${TARGET_RSS_MB} MB`, measured: `${(rss / 2 ** 20).toFixed(0)} MB`, baseline: '-', ratio: fmt(rss / 2 ** 20 / TARGET_RSS_MB), pass: rss <= TARGET_RSS_MB * 2 ** 20 },
      ],
      [
        `${queued} jobs in Redis; queueing took ${seconds.toFixed(1)} s after the listener connected (start-up before that: ${((watching - spawnedAt) / 1000).toFixed(1)} s; peak RSS once running: ${(rssAtStart / 2 ** 20).toFixed(0)} MB)`,
        `the ratio row counts the service's time from "watching mailbox"; the bare fetch (one FETCH 1:* of every source) is timed from after SELECT`,
        `for scale: bare imapflow fetchOne of each source in turn, one round trip per mail: ${oneByOneRate.toFixed(0)} mails/s`,
      ],
    );
    if (queued !== MAILS) throw new Error(`expected ${MAILS} jobs, found ${queued}`);
  } finally {
    await queue.close().catch(() => undefined);
    redis.disconnect();
    await stack.stopAll();
  }
});
