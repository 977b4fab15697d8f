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
import { cpuCount, machineCpu, processCpuSeconds, redisCpuSeconds } from './support/cpu.js';
import { logLines, memoryOf, startStack, waitFor, type Stack } from './support/stack.js';

const MAILS = Number(process.env.BENCH_BACKLOG_MAILS ?? 10_000);
// issue 23: a 10,000-mail backlog queued at 3,000 mails a second (was 300, issue 5)
const TARGET_RATE = 3000;
const TARGET_RATIO = 0.5;
const TARGET_RSS_MB = 200;
const TARGET_IDLE_MB = 100;
/** how long `run` sits connected to an empty inbox before its idle memory is read */
const IDLE_SETTLE_MS = Number(process.env.BENCH_IDLE_SETTLE_MS ?? 3000);
const MB = 2 ** 20;

runBenchmark('backlog', async () => {
  const stack = await startStack('backlog');
  const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE.downloads, { connection: redis, prefix: stack.prefix });
  try {
    // Idle first: `run` up (all three roles, workers started) and watching an empty inbox.
    const idle = await idleMemory(stack);
    log(`idle before the first mail: VmHWM ${(idle.peak / MB).toFixed(0)} MB, VmRSS ${(idle.rss / MB).toFixed(0)} MB (${IDLE_SETTLE_MS / 1000} s after "watching mailbox")`);

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
    const rssAtStart = memoryOf(service.child.pid!).peak;
    // Where the CPU goes while the backlog is queued (from "running", a moment before "watching mailbox").
    const cpu0 = { run: processCpuSeconds(service.child.pid!), redis: redisCpuSeconds(await redis.info('cpu')), machine: machineCpu() };
    // lastUid is saved per chunk, after that chunk's jobs are acknowledged: when it reaches the highest UID, all are queued.
    await waitFor(async () => Number(await redis.hget(progressKey, 'lastUid')) >= MAILS, { what: 'the backlog to be queued', timeoutMs: 600_000, intervalMs: 50 });
    const doneAt = Date.now();
    const cpu1 = { run: processCpuSeconds(service.child.pid!), redis: redisCpuSeconds(await redis.info('cpu')), machine: machineCpu() };
    const rss = memoryOf(service.child.pid!).peak;
    const watching = logLines(service.output(), /^watching mailbox$/)[0]?.time;
    if (!watching) throw new Error('the service never logged "watching mailbox"');
    const counts = await queue.getJobCounts();
    const queued = Object.values(counts).reduce((a, b) => a + b, 0);
    // a clean stop, so a --cpu-prof run (BENCH_NODE_ARGS) writes its profile
    await service.stop('SIGTERM');
    if (process.env.BENCH_DUMP) (await import('node:fs')).writeFileSync(process.env.BENCH_DUMP, service.output()); // XXX local

    const seconds = (doneAt - watching) / 1000;
    const rate = MAILS / seconds;
    const cores = cpuCount();
    const spent = { run: cpu1.run - cpu0.run, redis: cpu1.redis - cpu0.redis, busy: cpu1.machine.busy - cpu0.machine.busy, total: cpu1.machine.total - cpu0.machine.total };
    const other = Math.max(0, spent.busy - spent.run - spent.redis);
    // at this CPU cost per mail, all of the machine's cores busy with nothing else would queue this many a second
    const cpuBound = MAILS / spent.busy * cores;
    printTable(
      `backlog: ${MAILS} waiting mails → queued`,
      [
        { figure: 'mails queued per second', target: `≥ ${TARGET_RATE}/s`, measured: `${rate.toFixed(0)}/s`, baseline: `${bareRate.toFixed(0)}/s bare fetch`, ratio: fmt(rate / bareRate), pass: rate >= TARGET_RATE },
        { figure: 'ratio to bare imapflow fetch', target: `≥ ${TARGET_RATIO}`, measured: fmt(rate / bareRate), baseline: '1.00', ratio: fmt(rate / bareRate), pass: rate / bareRate >= TARGET_RATIO },
        { figure: `CPU-bound rate on ${cores} cores`, target: `≥ ${TARGET_RATE}/s`, measured: `${cpuBound.toFixed(0)}/s`, baseline: `${rate.toFixed(0)}/s measured`, ratio: fmt(rate / cpuBound), pass: cpuBound >= TARGET_RATE },
        { figure: 'peak RSS of run (VmHWM)', target: `≤ ${TARGET_RSS_MB} MB`, measured: `${(rss / MB).toFixed(0)} MB`, baseline: '-', ratio: fmt(rss / MB / TARGET_RSS_MB), pass: rss <= TARGET_RSS_MB * MB },
        { figure: 'idle before the first mail (VmHWM)', target: `≤ ${TARGET_IDLE_MB} MB`, measured: `${(idle.peak / MB).toFixed(0)} MB`, baseline: '-', ratio: fmt(idle.peak / MB / TARGET_IDLE_MB), pass: idle.peak <= TARGET_IDLE_MB * MB },
      ],
      [
        `node ${process.version}; memory is the node process of \`run\` alone (/proc/PID/status; REDIS_URL is set, so no embedded redis-server); idle VmRSS ${(idle.rss / MB).toFixed(0)} MB`,
        `${queued} jobs in Redis; queueing took ${seconds.toFixed(1)} s after the listener connected (start-up before that: ${((watching - spawnedAt) / 1000).toFixed(1)} s; VmHWM when it said running: ${(rssAtStart / MB).toFixed(0)} MB)`,
        `the ratio row counts the service's time from "watching mailbox"; the bare fetch (one FETCH 1:* of every source) is timed from after SELECT`,
        `CPU while queueing (${(spent.total / cores).toFixed(1)} s on ${cores} cores, machine ${((100 * spent.busy) / spent.total).toFixed(0)} % busy): run ${spent.run.toFixed(2)} s (${((1e6 * spent.run) / MAILS).toFixed(0)} µs a mail, every thread: JavaScript, GC, JIT), Redis ${spent.redis.toFixed(2)} s (${((1e6 * spent.redis) / MAILS).toFixed(0)} µs), the rest ${other.toFixed(2)} s (${((1e6 * other) / MAILS).toFixed(0)} µs: Dovecot, this script's polling, anything else running); the CPU-bound rate is the mails over all of it, times the cores`,
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

/** `run` against an empty inbox until it has watched it for IDLE_SETTLE_MS, then stopped: its memory before any mail. */
async function idleMemory(stack: Stack): Promise<{ peak: number; rss: number }> {
  // a prefix of its own, so nothing it saves (mailbox progress) touches the measured run
  const service = await stack.startService(['run'], { QUEUE_PREFIX: `${stack.prefix}-idle` });
  try {
    await waitFor(() => logLines(service.output(), /^watching mailbox$/).length > 0, { what: 'the idle run to watch the inbox', timeoutMs: 60_000, intervalMs: 50 });
    // a settle time, not synchronisation: timers, the first health and metrics work, IDLE itself
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    const memory = memoryOf(service.child.pid!);
    if (logLines(service.output(), /^mail \d+:/).length > 0) throw new Error('the idle run read mail: the inbox was not empty');
    return memory;
  } finally {
    await service.stop('SIGTERM');
  }
}
