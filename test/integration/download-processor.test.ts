import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { parsePackageLink } from '../../src/faspex/link.js';
import { createResolver } from '../../src/faspex/resolver.js';
import { createLogger } from '../../src/log/logger.js';
import { downloadBackoff } from '../../src/queue/backoff.js';
import { createDownloadProcessor } from '../../src/queue/download-processor.js';
import { renameJob } from '../../src/queue/job-name.js';
import { recentJobs } from '../../src/queue/job-report.js';
import { downloadJobOptions, enqueueDownloads } from '../../src/queue/producer.js';
import { QUEUE, type DownloadJobData } from '../../src/queue/queues.js';
import { WorkerManager } from '../../src/queue/worker-manager.js';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { FAKE_ASCP } from '../support/service-env.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The processor's failure contract through a real BullMQ worker: permanent failures end the job
 * at once, transient ones are retried, progress names the package while it runs, and a shutdown
 * hands the job back without spending an attempt.
 */
describe('download processor under a real worker', () => {
  let sim: FaspexSim;
  const dir = tempDir('proc');
  const prefix = uniqueName('proc');
  const connections: Redis[] = [];
  const connect = () => {
    const c = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    connections.push(c);
    return c;
  };
  let queue: Queue<DownloadJobData>;
  let events: QueueEvents;

  beforeAll(async () => {
    sim = await createFaspexSim();
    process.env.FAKE_ASCP_STORE = sim.storeDir;
    process.env.FAKE_FASPEX_SECRET = sim.tokenSecret;
    queue = new Queue(QUEUE.downloads, { connection: connect(), prefix });
    events = new QueueEvents(QUEUE.downloads, { connection: connect(), prefix });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await Promise.all([queue.close(), events.close(), sim.close()]);
    for (const c of connections) c.disconnect();
    dir.remove();
  });

  const managers: WorkerManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
  });

  function start(env: Record<string, string> = {}, options: { rename?: boolean } = {}) {
    // a fresh run counter, so a scenario list like `code:16@30%,ok` starts at its first item
    const stateDir = mkdtempSync(join(dir.path, 'ascp-'));
    Object.assign(process.env, { FAKE_ASCP_RATE_BPS: '4000000', FAKE_ASCP_FAIL: 'ok', FAKE_ASCP_STATE_DIR: stateDir }, env);
    const key = join(dir.path, 'key');
    writeFileSync(key, 'k');
    const config = loadConfig(
      { FASPEX_ALLOWED_HOSTS: sim.allowEntry, FASPEX_CA_FILE: sim.caFile, DOWNLOAD_DIR: join(dir.path, 'downloads'), DOWNLOAD_ATTEMPTS: '3', RETRY_BASE_SECONDS: '1', RETRY_MAX_SECONDS: '1' },
      'work',
      dir.path,
    );
    const logger = createLogger({ level: 'silent' });
    const manager = new WorkerManager(connect, { prefix, lockMs: 10_000, backoff: downloadBackoff({ baseMs: 50, maxMs: 50 }) }, logger);
    managers.push(manager);
    manager.register(QUEUE.downloads, createDownloadProcessor({ config, logger, resolver: createResolver(config.faspex, logger), ascp: { path: FAKE_ASCP, sshKeyPath: key }, progressIntervalMs: 0, ...(options.rename ? { rename: (jobId: string, title: string) => renameJob(queue, jobId, title) } : {}) }), { concurrency: 1 });
    return { config, manager };
  }

  async function add(link: string, config: ReturnType<typeof start>['config'], source: DownloadJobData['source'] = { type: 'cli' }, folder?: string) {
    const [r] = await enqueueDownloads(queue, [{ link: parsePackageLink(link), source }], downloadJobOptions(config.workers), { folder });
    return r!.jobId;
  }

  it('a permanent failure ends the job at once with the reason in plain words', async () => {
    const { config } = start();
    const pkg = sim.addPackage({ title: 'gone', files: { 'a.bin': 10 } });
    sim.fault(pkg, { kind: 'html-login' });
    const id = await add(pkg.links.external, config);
    const failed = await waitFor(async () => ((await queue.getJob(id))?.finishedOn ? queue.getJob(id) : undefined), { what: 'the job to fail' });
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/web page instead of the package description.*\[LINK_EXPIRED\]/);
    expect(failed.failedReason).not.toContain(pkg.externalPasscode);
  });

  it('a faspe:// link without a user ends the job at once, saying the user is missing, and runs no ascp', async () => {
    const { config } = start({ FAKE_ASCP_FAIL: 'code:16' });
    const id = await add('faspe://127.0.0.1:33001/0123abcd-0000.aspera-package/PKG?token=ATV2_no-user-Tok9&port=33001', config);
    const failed = await waitFor(async () => ((await queue.getJob(id))?.finishedOn ? queue.getJob(id) : undefined), { what: 'the job to fail' });
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/^FASP URL: the user is missing \(remote_user\): the link must be faspe:\/\/USER@host\[:port\]\/path \[LINK_INVALID\]$/);
    expect(failed.failedReason).not.toContain('no-user-Tok9');
  });

  it("an inbox's download folder is inside DOWNLOAD_DIR, and a job naming a way out fails without writing there", async () => {
    const { config } = start();
    const pkg = sim.addPackage({ title: 'Studio B reel', files: { 'b.bin': 1000 } });
    const id = await add(pkg.links.external, config, { type: 'mail', inbox: 'studio-b' }, 'clients/studio-b');
    const done = await waitFor(async () => (await queue.getJob(id))?.returnvalue, { what: 'completion', timeoutMs: 20_000 });
    expect(dirname(done.folder)).toBe(join(config.downloads.dir, 'clients', 'studio-b'));
    expect(done.folder).toMatch(/Studio B reel$/);
    expect((await queue.getJob(id))!.data.source.inbox).toBe('studio-b');

    // whoever can write Redis can write a job: the worker checks the folder itself
    const evil = sim.addPackage({ title: 'escape', files: { 'e.bin': 10 } });
    const bad = await add(evil.links.external, config, { type: 'mail' }, '../../escaped');
    const failed = await waitFor(async () => ((await queue.getJob(bad))?.finishedOn ? queue.getJob(bad) : undefined), { what: 'the job to fail' });
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/download folder "..\/..\/escaped" is refused.*\[UNSAFE_PATH\]/);
    expect(existsSync(join(dir.path, 'escaped'))).toBe(false);
  });

  it('a transient failure is retried, and progress names the package while it runs', async () => {
    const { config } = start({ FAKE_ASCP_FAIL: 'code:16@30%,ok', FAKE_ASCP_RATE_BPS: '2000000' });
    const pkg = sim.addPackage({ title: 'Dailies', files: { 'reel.mov': 1_500_000 } });
    const id = await add(pkg.links.external, config);
    const active = await waitFor(async () => (await recentJobs(queue, 5)).find((j) => j.id === id && j.title === 'Dailies'), { what: 'progress with the title' });
    expect(active.folder).toMatch(/Dailies$/);
    const done = await waitFor(async () => ((await queue.getJob(id))?.returnvalue ? queue.getJob(id) : undefined), { what: 'completion', timeoutMs: 20_000 }).catch(async (e) => {
      const job = await queue.getJob(id);
      throw new Error(`${(e as Error).message}; state ${await job?.getState()}, attempts ${job?.attemptsMade}, reason ${job?.failedReason}, log ${JSON.stringify((await queue.getJobLogs(id)).logs)}`);
    });
    // BullMQ 6 counts the successful attempt too: one failure, then success
    expect(done.attemptsMade).toBe(2);
    expect(done.returnvalue).toMatchObject({ title: 'Dailies', alreadyComplete: false });
    expect((await queue.getJobLogs(id)).logs).toEqual(expect.arrayContaining([expect.stringMatching(/will retry$/), expect.stringMatching(/^attempt 2 of 3/)]));
  });

  it('a job is named by its mail subject when queued and by the package title once resolved, sender and timing in its progress', async () => {
    const { config } = start({}, { rename: true });
    const pkg = sim.addPackage({ title: 'Colour grade v2', sender: 'grader@post.example.com', files: { 'grade.mov': 200_000 } });
    const id = await add(pkg.links.external, config, { type: 'mail', subject: `Package ready: ${pkg.links.external}` });
    // the subject quoted the link: the name has it masked
    const queued = (await queue.getJob(id))!;
    expect(queued.name).toMatch(/^Package ready: https:\/\/.*passcode=\*\*\*$/);
    expect(queued.name).not.toContain(pkg.externalPasscode);
    const done = await waitFor(async () => ((await queue.getJob(id))?.returnvalue ? queue.getJob(id) : undefined), { what: 'completion', timeoutMs: 20_000 });
    expect(done.name).toBe('Colour grade v2');
    expect(done.progress).toMatchObject({ phase: 'done', title: 'Colour grade v2', sender: 'grader@post.example.com', startedAt: expect.any(Number), at: expect.any(Number) });
    // a removed job is not brought back by a late rename
    await done.remove();
    expect(await renameJob(queue, id, 'late')).toBe(false);
    expect(await queue.getJob(id)).toBeUndefined();
  });

  it('a shutdown mid-transfer hands the job back without spending an attempt', async () => {
    const { manager, config } = start({ FAKE_ASCP_RATE_BPS: '200000' });
    const pkg = sim.addPackage({ title: 'Long one', files: { 'big.bin': 4_000_000 } });
    const id = await add(pkg.links.external, config);
    await waitFor(async () => ((await queue.getJob(id))?.progress as { bytes?: number } | undefined)?.bytes, { what: 'bytes to flow' });
    await manager.close();
    const job = (await queue.getJob(id))!;
    expect(await job.getState()).toMatch(/delayed|waiting/);
    expect(job.attemptsMade).toBe(0);
    // the next worker resumes it from the partial file to the end
    start({ FAKE_ASCP_RATE_BPS: '20000000' });
    const result = await waitFor(async () => (await queue.getJob(id))?.returnvalue, { what: 'completion after restart', timeoutMs: 30_000 });
    expect(result.bytesTransferred).toBeLessThan(4_000_000);
    // only the attempt that completed counts: the shutdown spent none
    expect((await queue.getJob(id))!.attemptsMade).toBe(1);
  });
});
