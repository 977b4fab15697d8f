import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedisServer, type RedisServer } from '../../src/service/redis-server.js';
import { runCli } from '../support/cli.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim, type SimPackage } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { bytesTransferred, completePackages, invocations, killLeftoverAscp, partialFiles, waitForRunning } from '../support/proof.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * One `run` process that is never restarted, while what it depends on is: Redis (SIGKILL, then
 * started again on the same AOF directory and port) and Dovecot, each in the middle of
 * transfers, with mail arriving while they are down. Then the same notification arrives five
 * ways (twice as is, forwarded inline, forwarded as an attachment, quoted in a reply).
 */
describe('crash: Redis and Dovecot restart under a running service', () => {
  let redis: RedisServer;
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let env: Record<string, string>;
  let service: ServiceProcess;
  let dashboardPort: number;
  const dir = tempDir('infra');
  const redisDir = join(dir.path, 'redis');

  beforeAll(async () => {
    mkdirSync(redisDir);
    [redis, dovecot, sim] = await Promise.all([startRedisServer({ dir: redisDir, appendOnly: true }), startDovecot(), createFaspexSim()]);
    dashboardPort = await freePort();
    env = serviceEnv({
      redisUrl: redis.url, prefix: uniqueName('infra'), dovecot, sim, dir: dir.path, dashboardPort,
      extra: { FAKE_ASCP_RATE_BPS: '400000', WORKER_LOCK_SECONDS: '5', WORKER_CONCURRENCY: '2', IMAP_RESYNC_SECONDS: '10' },
    });
    service = startServiceProcess(['run'], env, dir.path);
    await waitForRunning(service);
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    killLeftoverAscp(env.FAKE_ASCP_STATE_DIR!);
    await Promise.all([dovecot?.stop(), sim?.close(), redis?.kill()]);
    dir.remove();
  });

  const health = async () => {
    const r = await fetch(`http://127.0.0.1:${dashboardPort}/healthz`).catch(() => undefined);
    return r ? { status: r.status, body: (await r.json()) as { checks: Record<string, { status: string }> } } : undefined;
  };
  const mail = (pkg: SimPackage, id: string) => faspex4Notification({ link: pkg.links.external, title: pkg.title, messageId: `<${id}@faspex.example.com>` });
  const downloads = () => env.DOWNLOAD_DIR!;

  it('loses nothing when Redis is killed and restarted mid-transfer', async () => {
    const first = [0, 1, 2].map((i) => sim.addPackage({ title: `Redis ${i}`, files: { 'big.bin': 600_000 } }));
    for (const [i, p] of first.entries()) await dovecot.deliver(mail(p, `redis-${i}`));
    await waitFor(() => partialFiles(downloads()).some((f) => f.size > 0), { what: 'a transfer under way', intervalMs: 10 });

    await redis.kill();
    // Mail that arrives while Redis is away must wait, not vanish.
    const during = [3, 4].map((i) => sim.addPackage({ title: `Redis ${i}`, files: { 'small.bin': 100_000 } }));
    for (const [i, p] of during.entries()) await dovecot.deliver(mail(p, `redis-${i + 3}`));
    await waitFor(async () => (await health())?.body.checks.redis?.status === 'down', { what: '/healthz to see Redis down' });

    redis = await startRedisServer({ dir: redisDir, appendOnly: true, port: redis.port });
    const all = [...first, ...during];
    await waitFor(() => completePackages(downloads()).length === all.length, { what: 'all five packages', timeoutMs: 60_000 });
    expect(service.child.exitCode).toBeNull();
    expect(completePackages(downloads()).map((c) => c.manifest.title).sort()).toEqual(all.map((p) => p.title).sort());
    const status = JSON.parse((await runCli(['status', '--json'], { env, cwd: dir.path })).stdout);
    expect(status.queues.downloads).toMatchObject({ completed: 5, failed: 0 });
    await waitFor(async () => (await health())?.status === 200, { what: '/healthz ok again' });
  }, 90_000);

  it('loses nothing when Dovecot restarts mid-run, with mail delivered while it is down', async () => {
    const before = completePackages(downloads()).length;
    const pkgs = [0, 1, 2].map((i) => sim.addPackage({ title: `Dovecot ${i}`, files: { 'f.bin': 300_000 } }));
    await dovecot.deliver(mail(pkgs[0]!, 'dovecot-0'));
    await waitFor(() => partialFiles(downloads()).some((f) => f.size > 0), { what: 'a transfer under way', intervalMs: 10 });
    await dovecot.restart();
    await dovecot.deliver(mail(pkgs[1]!, 'dovecot-1'));
    await dovecot.deliver(mail(pkgs[2]!, 'dovecot-2'));
    await waitFor(() => completePackages(downloads()).length === before + 3, { what: 'the three packages', timeoutMs: 60_000 });
    await waitFor(async () => (await health())?.body.checks.imap?.status === 'ok', { what: 'IMAP healthy again' });
    expect(service.child.exitCode).toBeNull();
  }, 90_000);

  it('downloads once a notification that arrives twice, forwarded inline, as an attachment and quoted in a reply', async () => {
    const pkg = sim.addPackage({ title: 'Many copies', files: { 'one.bin': 200_000 } });
    const original = mail(pkg, 'copies-original');
    const link = pkg.links.external;
    const variants = [
      original,
      original,
      [
        'From: Bob <bob@studio.example>', 'To: ingest@example.com', 'Subject: Fwd: Package received: Many copies', 'Message-ID: <fwd-inline@studio.example>',
        'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '',
        'FYI', '', '---------- Forwarded message ---------', 'From: Faspex <faspex@faspex.example.com>', 'Subject: Package received: Many copies', '',
        `Download it here: <${link}>`, '',
      ].join('\r\n'),
      [
        'From: Bob <bob@studio.example>', 'To: ingest@example.com', 'Subject: FW: Package received: Many copies', 'Message-ID: <fwd-attached@studio.example>',
        'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="MIX"', '',
        '--MIX', 'Content-Type: text/plain; charset=utf-8', '', 'See attached.', '',
        '--MIX', 'Content-Type: message/rfc822; name="notification.eml"', 'Content-Disposition: attachment; filename="notification.eml"', '',
        original, '--MIX--', '',
      ].join('\r\n'),
      [
        'From: Dave <dave@studio.example>', 'To: ingest@example.com', 'Subject: Re: Package received: Many copies', 'Message-ID: <reply@studio.example>',
        'In-Reply-To: <copies-original@faspex.example.com>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '',
        'Got it, thanks.', '', 'On Fri, Faspex wrote:', '> You received the package Many copies.', `> Download it here: ${link}`, '',
      ].join('\r\n'),
    ];
    for (const v of variants) await dovecot.deliver(v);
    // every copy was read and queued (a link was found in each), only one job exists
    await waitFor(() => (service.output().match(/"msg":"mail \d+: queued"/g) ?? []).length >= 5 + 3 + 5, { what: 'all copies read', timeoutMs: 30_000 });
    await waitFor(() => completePackages(downloads()).some((c) => c.manifest.title === 'Many copies'), { what: 'the package', timeoutMs: 30_000 });
    const status = JSON.parse((await runCli(['status', '--json', '-n', '100'], { env, cwd: dir.path })).stdout);
    expect(status.jobs.filter((j: { title: string | null }) => j.title === 'Many copies')).toHaveLength(1);
    expect(completePackages(downloads()).filter((c) => c.manifest.title === 'Many copies')).toHaveLength(1);
    expect(invocations(env.FAKE_ASCP_STATE_DIR!).filter((r) => r.argv.some((a) => a.includes(pkg.uuid)))).toHaveLength(1);
    const total = completePackages(downloads()).reduce((n, c) => n + c.manifest.totalBytes, 0);
    expect(bytesTransferred(env.FAKE_ASCP_STATE_DIR!)).toBeLessThanOrEqual(total * 1.3);
    expect((await health())?.status).toBe(200);
    expect(service.child.exitCode).toBeNull();
  }, 60_000);
});
