/**
 * How soon does a download start? 50 notifications delivered one by one with dovecot-lda, at
 * random gaps (so some land while the listener is busy or not yet back in IDLE), each for its
 * own small package on the Faspex simulator. Measured per mail: from spawning dovecot-lda to
 * the fake ascp's start (its invocation record). Baseline in the same run: a bare imapflow
 * client IDLE-ing on the same inbox, timed to its EXISTS for the same mails: the floor that
 * Dovecot's own notification batching sets.
 */
import { invocations } from '../test/support/proof.js';
import { faspex4Notification } from '../src/standins/notification-mail.js';
import { imapClient } from './support/mail-load.js';
import { fmt, log, percentile, printTable, runBenchmark } from './support/report.js';
import { startStack, waitFor } from './support/stack.js';

const MAILS = Number(process.env.BENCH_LATENCY_MAILS ?? 50);

// A fixed-seed generator: the same gaps every run, so runs compare.
function gaps(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return 100 + (x % 900);
  };
}

runBenchmark('start-latency', async () => {
  const stack = await startStack('latency', { WORKER_CONCURRENCY: '2' });
  // IDLE as soon as it can: the floor, not another client's tuning
  const bare = imapClient(stack.dovecot, { autoIdleDelay: 100 });
  try {
    await stack.startService(['run']);
    await bare.connect();
    await bare.mailboxOpen('INBOX');
    const existsAt: number[] = [];
    bare.on('exists', (e: { count: number }) => {
      for (let n = existsAt.length; n < e.count; n++) existsAt.push(Date.now());
    });
    const stateDir = stack.env.FAKE_ASCP_STATE_DIR!;
    const nextGap = gaps(7);
    const service: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < MAILS; i++) {
      const pkg = stack.sim.addPackage({ title: `Latency ${i}`, files: { 'a.txt': 1000 } });
      const deliveredAt = Date.now();
      await stack.dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: `Latency ${i}` }));
      const started = await waitFor(() => invocations(stateDir)[i]?.at, { what: `ascp for mail ${i + 1}`, timeoutMs: 30_000, intervalMs: 5 });
      const seen = await waitFor(() => existsAt[i], { what: `EXISTS for mail ${i + 1}`, timeoutMs: 30_000, intervalMs: 5 });
      service.push((started - deliveredAt) / 1000);
      floor.push((seen - deliveredAt) / 1000);
      await new Promise((r) => setTimeout(r, nextGap()));
    }
    log(`service: ${service.map((s) => s.toFixed(2)).join(' ')}`);
    const p50 = percentile(service, 50);
    const p95 = percentile(service, 95);
    const b50 = percentile(floor, 50);
    const b95 = percentile(floor, 95);
    printTable(
      `start latency: dovecot-lda → ascp start, ${MAILS} mails`,
      [
        { figure: 'p50 delivery → ascp start', target: '≤ 1 s', measured: `${fmt(p50)} s`, baseline: `${fmt(b50)} s bare IDLE`, ratio: fmt(p50 / b50), pass: p50 <= 1 },
        { figure: 'p95 delivery → ascp start', target: '≤ 2 s', measured: `${fmt(p95)} s`, baseline: `${fmt(b95)} s bare IDLE`, ratio: fmt(p95 / b95), pass: p95 <= 2 },
      ],
      [
        `baseline: a bare imapflow client IDLE-ing on the same inbox sees EXISTS for the same mails (Dovecot's notification floor)`,
        `for scale: a cron job polling every minute would average 30 s; max here ${fmt(Math.max(...service))} s`,
      ],
    );
  } finally {
    await bare.logout().catch(() => bare.close());
    await stack.stopAll();
  }
});
