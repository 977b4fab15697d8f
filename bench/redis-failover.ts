/**
 * The failover gap: how long the service cannot use Redis while its master changes. Clients
 * made by the service's own factory (src/queue/connection.ts) write a key every 20 ms, one of
 * each role: `worker` (waits out the outage: offline queue, no retry limit) and `producer` (fails
 * fast; the writer retries every 20 ms, as the listener's next chunk would). The gap is the
 * longest time between two successful writes around the failover.
 *
 * Shapes: a SENTINEL FAILOVER (master + replica, three sentinels, down-after 1 s) and a
 * CLUSTER FAILOVER of the master holding the queues' slot (three masters, a replica each,
 * cluster-node-timeout 1 s). Baseline, same run: a single redis-server killed and restarted
 * on its port (what the embedded Redis of `run` goes through).
 *
 *   npx tsx bench/redis-failover.ts        (REPS=3 by default)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisClient, waitReady, type RedisClient } from '../src/queue/connection.js';
import type { RedisShape } from '../src/queue/redis-shape.js';
import { startRedisServer } from '../src/service/redis-server.js';
import { startRedisCluster, startSentinelSet } from '../test/support/redis-topology.js';
import { fmt, log, percentile, printTable, runBenchmark, type Figure } from './support/report.js';

const REPS = Number(process.env.REPS ?? 3);
const KEY = '{bench}:failover-probe';

interface Probe {
  stop(): Promise<number>;
}

/** Writes every 20 ms until stopped; resolves with the longest gap between successes (ms). */
function probe(client: RedisClient): Probe {
  let running = true;
  let last = Date.now();
  let worst = 0;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      try {
        await client.set(KEY, String(i));
        const now = Date.now();
        worst = Math.max(worst, now - last);
        last = now;
      } catch {
        // producer role: refused while disconnected; try again shortly
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return worst;
    },
  };
}

async function measure(shape: RedisShape, failover: () => Promise<void>): Promise<{ worker: number; producer: number }> {
  const worker = createRedisClient(shape, 'worker');
  const producer = createRedisClient(shape, 'producer');
  for (const c of [worker, producer]) c.on('error', () => undefined);
  await Promise.all([waitReady(worker), waitReady(producer)]);
  const probes = { worker: probe(worker), producer: probe(producer) };
  await new Promise((r) => setTimeout(r, 500));
  await failover();
  // the new master is known; give both clients time to find it and write again
  await new Promise((r) => setTimeout(r, 3000));
  const result = { worker: await probes.worker.stop(), producer: await probes.producer.stop() };
  worker.disconnect();
  producer.disconnect();
  return result;
}

runBenchmark('redis-failover', async () => {
  const gaps: Record<string, { worker: number[]; producer: number[] }> = {};
  const record = (name: string, r: { worker: number; producer: number }) => {
    gaps[name] ??= { worker: [], producer: [] };
    gaps[name]!.worker.push(r.worker);
    gaps[name]!.producer.push(r.producer);
    log(`${name}: worker ${r.worker} ms, producer ${r.producer} ms`);
  };

  for (let rep = 0; rep < REPS; rep++) {
    // baseline: one server, SIGKILL and restart on the same port
    {
      const dir = mkdtempSync(join(tmpdir(), 'fi-bench-restart-'));
      let server = await startRedisServer({ dir, appendOnly: true });
      const port = server.port;
      record('restart', await measure({ kind: 'server', host: '127.0.0.1', port, db: 0, tls: false }, async () => {
        await server.kill();
        server = await startRedisServer({ dir, appendOnly: true, port });
      }));
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    {
      const dir = mkdtempSync(join(tmpdir(), 'fi-bench-sentinel-'));
      const set = await startSentinelSet(dir);
      const shape: RedisShape = {
        kind: 'sentinel', master: set.master, sentinels: set.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
        sentinelPassword: set.sentinelPassword, password: set.masterPassword, db: 0, tls: false,
      };
      record('sentinel', await measure(shape, () => set.failover()));
      await set.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    {
      const dir = mkdtempSync(join(tmpdir(), 'fi-bench-cluster-'));
      const cluster = await startRedisCluster(dir);
      const shape: RedisShape = { kind: 'cluster', nodes: cluster.nodes.slice(0, 3).map((n) => ({ host: '127.0.0.1', port: n.port })), tls: false };
      record('cluster', await measure(shape, async () => void (await cluster.failover(KEY))));
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const base = percentile(gaps.restart!.worker, 50);
  const figures: Figure[] = [];
  for (const name of ['restart', 'sentinel', 'cluster']) {
    for (const role of ['worker', 'producer'] as const) {
      const values = gaps[name]![role];
      const median = percentile(values, 50);
      figures.push({
        figure: `${name} gap, ${role} (s, median of ${values.length}; max ${fmt(Math.max(...values) / 1000)})`,
        target: '< 10',
        measured: fmt(median / 1000),
        baseline: name === 'restart' ? '-' : fmt(base / 1000),
        ratio: name === 'restart' ? '-' : fmt(median / base),
        pass: median < 10_000,
      });
    }
  }
  printTable('Redis failover gap (how long the service cannot write to Redis)', figures, [
    'baseline: a single redis-server SIGKILLed and restarted on its port, worker role, same run',
  ]);
});
