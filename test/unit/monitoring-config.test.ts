/**
 * The alert rules and the Grafana dashboard under deploy/: promtool accepts the rules and their
 * unit tests pass (deploy/prometheus/faspex-ingest.rules.test.yml), and every metric either
 * names is one the service exports, so a renamed metric cannot leave a silent alert or an empty
 * graph behind.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/service/metrics.js';

const run = promisify(execFile);
const DIR = new URL('../../deploy/prometheus', import.meta.url).pathname;
const RULES = `${DIR}/faspex-ingest.rules.yml`;
const GRAFANA = new URL('../../deploy/grafana/faspex-ingest.json', import.meta.url).pathname;

/** Every series name the service can expose, histogram parts included. */
async function exported(): Promise<Set<string>> {
  const metrics = createMetrics({ defaultMetrics: false });
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

/** Names of the service's series an expression uses (recording rules, `faspex_ingest:...`, excluded). */
function used(expr: string): string[] {
  return [...expr.matchAll(/\bfaspex_ingest_[a-z0-9_]+/g)].map((m) => m[0]);
}

describe('Prometheus rules', () => {
  it('promtool check rules accepts them', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', RULES]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: every alert fires when it should and not before', async () => {
    const { stdout, stderr } = await run('promtool', ['test', 'rules', 'faspex-ingest.rules.test.yml'], { cwd: DIR }).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${stdout}${stderr}`).toMatch(/SUCCESS/);
    expect(`${stdout}${stderr}`).not.toMatch(/FAILED/);
  });

  it('cover the conditions the operators asked for', () => {
    const alerts = [...readFileSync(RULES, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(alerts.sort()).toEqual(['FaspexIngestDownloadDirLowSpace', 'FaspexIngestListenerDisconnected', 'FaspexIngestMailMissedPackages', 'FaspexIngestMailNotRead', 'FaspexIngestPackagesFailing', 'FaspexIngestQueueGrowing', 'FaspexIngestWaitingForDiskSpace']);
  });

  it('use only metrics the service exports', async () => {
    const names = await exported();
    const missing = used(readFileSync(RULES, 'utf8')).filter((n) => !names.has(n));
    expect(missing).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(GRAFANA, 'utf8')) as { uid: string; panels: { title: string; targets?: { expr: string }[] }[] };

  it('is a dashboard with panels that all query something', () => {
    expect(dashboard.uid).toBe('faspex-ingest');
    expect(dashboard.panels.length).toBeGreaterThan(5);
    for (const p of dashboard.panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
  });

  it('queries only metrics the service exports', async () => {
    const names = await exported();
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const all = exprs.flatMap(used);
    expect(all.length).toBeGreaterThan(10);
    expect(all.filter((n) => !names.has(n))).toEqual([]);
  });

  it('shows the inbox health, the queue, failures, throughput, latency and free space', () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const metric of ['faspex_ingest_inbox_connected', 'faspex_ingest_inbox_last_mail_timestamp_seconds', 'faspex_ingest_inbox_backlog', 'faspex_ingest_jobs', 'faspex_ingest_packages_failed_total', 'faspex_ingest_bytes_downloaded_total', 'faspex_ingest_mail_queue_latency_seconds_bucket', 'faspex_ingest_download_dir_free_bytes']) {
      expect(exprs, metric).toContain(metric);
    }
  });
});
