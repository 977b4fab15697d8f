/**
 * A dashboard with packages in every state, made the real way: a Faspex simulator, the real
 * download processor under a real BullMQ worker (concurrency 1) running the fake ascp slowed
 * down, so one package is mid-transfer while others wait; one finished and one failed for good
 * (its link expired). An inbox status is published as the listener role does. Used by the
 * browser test and by scripts/screenshots.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/index.js';
import { parsePackageLink } from '../../src/faspex/link.js';
import { createResolver } from '../../src/faspex/resolver.js';
import { createLogger } from '../../src/log/logger.js';
import { DEFAULT_INBOX_ID, InboxStatusPublisher, readInboxStatuses } from '../../src/mail/inbox-status.js';
import { downloadBackoff } from '../../src/queue/backoff.js';
import { createDownloadProcessor } from '../../src/queue/download-processor.js';
import { renameJob } from '../../src/queue/job-name.js';
import { downloadJobOptions, enqueueDownloads } from '../../src/queue/producer.js';
import { QUEUE, type DownloadJobData } from '../../src/queue/queues.js';
import { WorkerManager } from '../../src/queue/worker-manager.js';
import { createHealthCheck, queuePingProbe } from '../../src/service/health.js';
import { createMetrics } from '../../src/service/metrics.js';
import { createFaspexSim, type FaspexSim, type SimPackage } from '../../src/standins/faspex-sim/index.js';
import { FAKE_ASCP } from './service-env.js';
import { uniqueName, waitFor } from './temp.js';

export interface SceneOptions {
  redisUrl: string;
  dir: string;
  user?: string;
  password?: string;
  readOnly?: boolean;
  /** the fake ascp's speed: the downloading package takes bytes / rate seconds */
  rateBps?: number;
  liveIntervalMs?: number;
}

export interface Scene {
  url: string;
  queue: Queue<DownloadJobData>;
  sim: FaspexSim;
  prefix: string;
  ids: { done: string; failed: string; downloading: string; waiting: string };
  packages: { done: SimPackage; failed: SimPackage; downloading: SimPackage; waiting: SimPackage };
  /** every passcode of the scene: none may reach the browser */
  passcodes: string[];
  close(): Promise<void>;
}

export async function startScene(o: SceneOptions): Promise<Scene> {
  const logger = createLogger({ level: 'silent' });
  const sim = await createFaspexSim();
  const stateDir = mkdtempSync(join(o.dir, 'ascp-'));
  Object.assign(process.env, { FAKE_ASCP_STORE: sim.storeDir, FAKE_FASPEX_SECRET: sim.tokenSecret, FAKE_ASCP_RATE_BPS: String(o.rateBps ?? 300_000), FAKE_ASCP_FAIL: 'ok', FAKE_ASCP_STATE_DIR: stateDir });
  const key = join(o.dir, 'key');
  writeFileSync(key, 'stand-in key');
  const config = loadConfig({ FASPEX_ALLOWED_HOSTS: sim.allowEntry, FASPEX_CA_FILE: sim.caFile, DOWNLOAD_DIR: join(o.dir, 'downloads'), DOWNLOAD_ATTEMPTS: '3' }, 'work', o.dir);
  const connections: Redis[] = [];
  const connect = () => {
    const c = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
    connections.push(c);
    return c;
  };
  const prefix = uniqueName('scene');
  const queue = new Queue<DownloadJobData>(QUEUE.downloads, { connection: connect(), prefix });
  const manager = new WorkerManager(connect, { prefix, lockMs: 30_000, backoff: downloadBackoff({ baseMs: 500, maxMs: 500 }) }, logger);
  manager.register(
    QUEUE.downloads,
    createDownloadProcessor({ config, logger, resolver: createResolver(config.faspex, logger), ascp: { path: FAKE_ASCP, sshKeyPath: key }, progressIntervalMs: 250, rename: (id, title, sender) => renameJob(queue, id, title, sender) }),
    { concurrency: 1 },
  );

  const add = async (pkg: SimPackage, subject: string, from: string) => {
    const [r] = await enqueueDownloads(queue, [{ link: parsePackageLink(pkg.links.external), source: { type: 'mail', mailbox: 'INBOX', subject, from } }], downloadJobOptions(config.workers));
    return r!.jobId;
  };
  const state = (id: string) => queue.getJob(id).then((j) => j?.getState());

  const packages = {
    done: sim.addPackage({ title: 'Trailer v3 — final grade', sender: 'maya.chen@northlight.example', files: { 'trailer_v3.mov': 2_400_000, 'notes.txt': 'Final grade, stereo mix.\n' } }),
    failed: sim.addPackage({ title: 'Lab results 2026-11', sender: 'results@lab.example.org', files: { 'results.csv': 'a,b\n1,2\n' } }),
    downloading: sim.addPackage({ title: 'Agency deck and cut-downs', sender: 'tom@agency.example.com', files: { 'deck.pdf': 1_200_000, 'cutdowns/30s.mov': 6_000_000, 'cutdowns/15s.mov': 3_000_000 } }),
    waiting: sim.addPackage({ title: 'Q4 dailies, reel 12', sender: 'dit@onset.example.net', files: { 'reel12.mxf': 4_000_000 } }),
  };
  sim.fault(packages.failed, { kind: 'html-login' });

  // Done first (fast: the rate is per process and this one is small), then the failure.
  process.env.FAKE_ASCP_RATE_BPS = String(50 * 1024 * 1024);
  const done = await add(packages.done, 'Faspex package: Trailer v3 — final grade', 'Maya Chen via Faspex <faspex@faspex.example.com>');
  await waitFor(async () => (await state(done)) === 'completed', { what: 'the first package to complete', timeoutMs: 30_000 });
  const failed = await add(packages.failed, 'Faspex package: Lab results 2026-11', 'Lab results <faspex@faspex.example.com>');
  await waitFor(async () => (await state(failed)) === 'failed', { what: 'the expired link to fail', timeoutMs: 30_000 });
  // The rest at the slow rate: one transfers while the next waits its turn.
  process.env.FAKE_ASCP_RATE_BPS = String(o.rateBps ?? 300_000);
  const downloading = await add(packages.downloading, 'Faspex package: Agency deck', 'Tom Reyes via Faspex <faspex@faspex.example.com>');
  await waitFor(async () => {
    const job = await queue.getJob(downloading);
    return (job?.progress as { phase?: string; bytes?: number } | undefined)?.bytes ?? 0;
  }, { what: 'the slow package to start transferring', timeoutMs: 30_000 });
  const waiting = await add(packages.waiting, 'Faspex package: Q4 dailies, reel 12', 'On-set DIT via Faspex <faspex@faspex.example.com>');

  const statusRedis = connect();
  const inbox = new InboxStatusPublisher({ redis: statusRedis, prefix, inbox: DEFAULT_INBOX_ID, label: 'ingest@mail.example.com/INBOX' });
  await inbox.apply({ type: 'connected', idle: true });
  await inbox.apply({ type: 'mail', queued: true });

  const dashboard: RunningDashboard = await startDashboard({
    queues: [queue],
    config: { host: '127.0.0.1', port: 0, user: o.user, password: o.password, readOnly: o.readOnly ?? false },
    metrics: createMetrics({ defaultMetrics: false }),
    health: createHealthCheck({ redis: queuePingProbe(queue) }),
    logger,
    inboxes: () => readInboxStatuses(statusRedis, prefix),
    liveIntervalMs: o.liveIntervalMs ?? 500,
  });

  return {
    url: dashboard.url,
    queue,
    sim,
    prefix,
    ids: { done, failed, downloading, waiting },
    packages,
    passcodes: Object.values(packages).map((p) => p.externalPasscode),
    async close() {
      await dashboard.close();
      await inbox.stop();
      await manager.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await statusRedis.del(`${prefix}:inbox-status`).catch(() => undefined);
      await queue.close();
      await sim.close();
      for (const c of connections) c.disconnect();
    },
  };
}
