import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { alive, invocations } from '../../src/standins/fake-ascp/records.js';
import type { ServiceProcess } from '../support/service-process.js';
import { serviceStack } from '../support/service-stack.js';
import { waitFor } from '../support/temp.js';

/**
 * The product as a team runs it: `faspex-ingest run` as a real process, mail delivered by
 * dovecot-lda, the Faspex simulator over HTTPS with a test CA, the fake ascp as a child
 * process. Nothing in between is called directly.
 */
describe('run: mail → job → download → manifest', () => {
  const s = serviceStack('e2e', { env: (base, stack) => ({ ...base, DASHBOARD_PORT: String(stack.port) }) });
  let service: ServiceProcess;

  beforeAll(async () => {
    service = await s.run();
  }, 90_000);

  it('downloads a passcode package and an account package announced by mail', async () => {
    const external = s.sim.addPackage({ title: 'Q3 report', files: { 'report.pdf': 300_000, 'data/table.csv': 'a,b\n1,2\n' } });
    const received = s.sim.addPackage({ title: 'Dailies 12', files: { 'reel1.mov': 500_000 } });
    await s.dovecot.deliver(faspex4Notification({ link: external.links.external, title: 'Q3 report' }));
    await s.dovecot.deliver(faspex4Notification({ link: received.links.received, title: 'Dailies 12' }));

    const manifests = await waitFor(
      () => {
        const found = readdirSync(s.env.DOWNLOAD_DIR!).filter((f) => existsSync(join(s.env.DOWNLOAD_DIR!, f, 'faspex-package.json')));
        return found.length === 2 ? found : undefined;
      },
      { what: 'two complete packages', timeoutMs: 30_000 },
    );
    const byTitle = Object.fromEntries(
      manifests.map((f) => {
        const m = JSON.parse(readFileSync(join(s.env.DOWNLOAD_DIR!, f, 'faspex-package.json'), 'utf8'));
        return [m.title, { folder: join(s.env.DOWNLOAD_DIR!, f), manifest: m }];
      }),
    );
    expect(Object.keys(byTitle).sort()).toEqual(['Dailies 12', 'Q3 report']);
    expect(byTitle['Q3 report']!.manifest.kind).toBe('faspex4-external');
    expect(byTitle['Dailies 12']!.manifest.kind).toBe('faspex4-received');
    // the bytes on disk are the package's bytes
    const table = readdirSync(byTitle['Q3 report']!.folder, { recursive: true }).map(String).find((p) => p.endsWith('table.csv'));
    expect(readFileSync(join(byTitle['Q3 report']!.folder, table!), 'utf8')).toBe('a,b\n1,2\n');
    expect(JSON.stringify(byTitle)).not.toContain(new URL(external.links.external).searchParams.get('passcode'));

    const status = await runCli(['status', '--json'], { env: s.env, cwd: s.dir.path });
    const report = JSON.parse(status.stdout);
    expect(report.queues.downloads).toMatchObject({ completed: 2, failed: 0, waiting: 0, active: 0 });
    expect(report.jobs.map((j: { title: string }) => j.title).sort()).toEqual(['Dailies 12', 'Q3 report']);

    const health = await fetch(`http://127.0.0.1:${s.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', checks: { redis: { status: 'ok' }, imap: { status: 'ok' }, workers: { status: 'ok' } } });
    const metrics = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
    expect(metrics).toMatch(/^faspex_ingest_packages_completed_total 2$/m);
    expect(metrics).toMatch(/^faspex_ingest_mails_read_total 2$/m);
    // the listener role publishes its inbox's health; the dashboard side reads it from Redis
    expect(metrics).toMatch(/^faspex_ingest_inbox_connected\{inbox="[^"]+"\} 1$/m);
    expect(metrics).toMatch(/^faspex_ingest_inbox_mode\{inbox="[^"]+",mode="idle"\} 1$/m);
    expect(metrics).toMatch(/^faspex_ingest_mail_queue_latency_seconds_count 2$/m);
    expect(metrics).toMatch(/^faspex_ingest_download_dir_free_bytes \d+$/m);
    // jobs are named for their packages, and the packages page lists them under a connected inbox
    expect(report.jobs.map((j: { name: string }) => j.name).sort()).toEqual(['Dailies 12', 'Q3 report']);
    const home = await (await fetch(`http://127.0.0.1:${s.port}/`)).text();
    expect(home).toContain('connected · IDLE');
    expect(home).toMatch(/<div class="title">Q3 report<\/div>/);
    expect(home).toMatch(/<div class="title">Dailies 12<\/div>/);
  });

  it('downloads a Faspex 5 package whose link is only in the HTML button of the mail', async () => {
    const pkg = s.sim.faspex5.addPackage({ title: 'Trailer final', files: { 'trailer.mov': 250_000 }, sender: 'jane@example.com' });
    const eml = readFileSync(new URL('../fixtures/mail/f5-received-button.eml', import.meta.url), 'utf8')
      .replace(/href="https:\/\/faspex5\.example\.com[^"]*"/, `href="${pkg.links.public.replace(/&/g, '&amp;')}&amp;redirected=true"`)
      .replace('<received-package-trailer-final@faspex.example.com>', '<f5-e2e@faspex.example.com>');
    expect(eml.split('--ALT')[1]).not.toContain(pkg.links.public);
    await s.dovecot.deliver(eml);
    const folder = await waitFor(
      () => readdirSync(s.env.DOWNLOAD_DIR!).find((f) => f.endsWith('Trailer final') && existsSync(join(s.env.DOWNLOAD_DIR!, f, 'faspex-package.json'))),
      { what: 'the Faspex 5 package on disk', timeoutMs: 30_000 },
    );
    const manifest = JSON.parse(readFileSync(join(s.env.DOWNLOAD_DIR!, folder, 'faspex-package.json'), 'utf8'));
    expect(manifest).toMatchObject({ kind: 'faspex5-public', title: 'Trailer final', sender: 'jane@example.com' });
    expect(manifest.files).toEqual([expect.objectContaining({ size: 250_000 })]);
    expect(JSON.stringify(manifest)).not.toContain(new URL(pkg.links.public).searchParams.get('context'));
  });

  it('stops cleanly on SIGTERM', async () => {
    const code = await service.stop('SIGTERM');
    expect(code).toBe(0);
    expect(service.output()).toContain('stopped');
  });
});

describe('a second signal', () => {
  const s = serviceStack('sig2', { env: (base) => ({ ...base, FAKE_ASCP_RATE_BPS: '100000', FAKE_ASCP_IGNORE_SIGNALS: '1' }) });

  it('exits at once, even mid-transfer', async () => {
    const service = s.start(['run']);
    await waitFor(() => service.output().includes('running;'), { what: 'the service', timeoutMs: 30_000 });
    const pkg = s.sim.addPackage({ title: 'Slow', files: { 'slow.bin': 5_000_000 } });
    await s.dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: 'Slow' }));
    // an ascp that ignores SIGINT/SIGTERM keeps the graceful path waiting on its grace period
    const partial = () => readdirSync(s.env.DOWNLOAD_DIR!, { recursive: true }).map(String).find((f) => f.endsWith('slow.bin.partial'));
    await waitFor(() => partial(), { what: 'ascp to be writing the package', timeoutMs: 30_000 });
    service.child.kill('SIGTERM');
    await waitFor(() => service.output().includes('shutting down'), { what: 'graceful shutdown to begin' });
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(130);
    expect(service.output()).toContain('second signal: exiting now');
    // the transfer it started does not live on, writing into a folder another worker may resume
    const started = invocations(s.env.FAKE_ASCP_STATE_DIR!);
    expect(started.length).toBeGreaterThan(0);
    for (const { pid } of started) await waitFor(() => !alive(pid), { what: `ascp ${pid} to be gone`, timeoutMs: 5000 });
  });
});

describe('work with METRICS_PORT', () => {
  const s = serviceStack('ops', { env: (base, stack) => ({ ...base, METRICS_PORT: String(stack.port) }) });

  it('serves /healthz and /metrics for a workers-only process', async () => {
    const work = s.start(['work']);
    await waitFor(() => work.output().includes('running'), { what: '`work` to start', timeoutMs: 30_000 });
    const health = await fetch(`http://127.0.0.1:${s.port}/healthz`);
    expect(await health.json()).toMatchObject({ status: 'ok', checks: { redis: { status: 'ok' }, imap: { status: 'skipped' }, workers: { status: 'ok' } } });
    expect(await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text()).toMatch(/^faspex_ingest_packages_completed_total 0$/m);
    expect((await fetch(`http://127.0.0.1:${s.port}/`)).status).toBe(404);
    expect(await work.stop('SIGTERM')).toBe(0);
  });
});
