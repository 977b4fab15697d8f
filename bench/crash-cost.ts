/**
 * What does a crash cost? A package downloads through `faspex-ingest run`; at 50 % the host
 * "crashes": the service and its ascp get SIGKILL together. The service is started again; the
 * job's lock expires (WORKER_LOCK_SECONDS), it runs again and ascp resumes from the partial
 * files (-k 2). Measured: bytes all ascp runs wrote for that package, relative to its size
 * (the fake ascp keeps a per-run byte count in its state dir that survives SIGKILL). Baseline in
 * the same run: the same-sized package without a crash.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { completePackages, invocations } from '../test/support/proof.js';
import { faspex4Notification } from '../src/standins/notification-mail.js';
import { fmt, log, printTable, runBenchmark } from './support/report.js';
import { startStack, waitFor } from './support/stack.js';

const SIZE = Number(process.env.BENCH_CRASH_BYTES ?? 64 * 2 ** 20);
const TARGET = 1.05;
const ENV = { FAKE_ASCP_RATE_BPS: String(32 * 2 ** 20), WORKER_LOCK_SECONDS: '5', WORKER_CONCURRENCY: '1' };

runBenchmark('crash-cost', async () => {
  const stack = await startStack('crash', ENV);
  const stateDir = stack.env.FAKE_ASCP_STATE_DIR!;
  // the fake ascp's per-run count, by pid (FAKE_ASCP_STATE_DIR/bytes-<pid>)
  const bytesOf = (pid: number | undefined) => {
    try {
      return Number(readFileSync(join(stateDir, `bytes-${pid}`), 'utf8')) || 0;
    } catch {
      return 0;
    }
  };
  const complete = (title: string) => completePackages(stack.env.DOWNLOAD_DIR!).find((p) => p.manifest.title === title);
  const send = async (title: string) => {
    const pkg = stack.sim.addPackage({ title, files: { 'take1.mov': SIZE } });
    await stack.dovecot.deliver(faspex4Notification({ link: pkg.links.external, title }));
  };
  try {
    let service = await stack.startService(['run']);

    // Baseline: the same size, no crash (ascp run 1).
    await send('Clean');
    await waitFor(() => complete('Clean'), { what: 'the clean package', timeoutMs: 120_000, intervalMs: 50 });
    const clean = bytesOf(invocations(stateDir)[0]?.pid);

    // The crash: ascp run 2, killed with its service at half way.
    await send('Crashed');
    const victim = await waitFor(() => invocations(stateDir)[1], { what: 'ascp for the second package', timeoutMs: 60_000, intervalMs: 5 });
    await waitFor(() => bytesOf(victim.pid) >= SIZE / 2, { what: 'half of the second package', timeoutMs: 60_000, intervalMs: 2 });
    service.child.kill('SIGKILL');
    try {
      process.kill(victim.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await service.exited;
    const atCrash = bytesOf(victim.pid);
    log(`SIGKILL at ${((atCrash / SIZE) * 100).toFixed(1)} % (${atCrash} bytes); restarting`);
    const restartedAt = Date.now();
    service = await stack.startService(['run']);
    const done = await waitFor(() => complete('Crashed'), { what: 'the crashed package to finish after restart', timeoutMs: 180_000, intervalMs: 50 });
    const runs = invocations(stateDir).slice(1);
    const crashed = runs.reduce((n, inv) => n + bytesOf(inv.pid), 0);
    const onDisk = done.manifest.totalBytes;
    if (onDisk !== SIZE) throw new Error(`the finished package has ${onDisk} bytes, expected ${SIZE}`);
    await service.stop('SIGTERM');

    const ratio = crashed / SIZE;
    const baseRatio = clean / SIZE;
    printTable(`crash cost: SIGKILL of run + ascp at 50 % of a ${(SIZE / 2 ** 20).toFixed(0)} MiB package`, [
      { figure: 'bytes to finish ÷ package size', target: `≤ ${TARGET} ×`, measured: `${fmt(ratio, 3)} ×`, baseline: `${fmt(baseRatio, 3)} × without crash`, ratio: fmt(ratio / baseRatio, 3), pass: ratio <= TARGET },
    ], [
      `${runs.length} ascp run(s) for the crashed package; finished ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the restart began (lock expiry WORKER_LOCK_SECONDS=${ENV.WORKER_LOCK_SECONDS} included)`,
    ]);
  } finally {
    await stack.stopAll();
  }
});
