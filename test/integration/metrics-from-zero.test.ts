/**
 * A fresh service (the real `faspex-ingest run`, one ordinary mail read, nothing failed) already
 * exports every series the Grafana dashboard (deploy/grafana/), the alert rules
 * (deploy/prometheus/) and the KEDA trigger (deploy/kubernetes/) query, with the label values
 * their expressions fix: a labelled counter starts at 0 for its known values rather than being
 * absent until its first increment ("No data" panels, `increase()` missing the first failure).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { freePort } from '../../src/service/redis-server.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

const DEPLOY = new URL('../../deploy/', import.meta.url).pathname;

interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}
interface Wanted {
  name: string;
  matchers: Matcher[];
  from: string;
}

/** `name{a="x",b=~"y|z"}` selectors of the service's metrics in a PromQL expression. Pure. */
function selectors(expr: string, from: string): Wanted[] {
  return [...expr.matchAll(/\b(faspex_ingest_[a-z0-9_]+)(?:\{([^}]*)\})?/g)].map((m) => ({
    name: m[1]!,
    from,
    matchers: [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)]
      .map((x) => ({ label: x[1]!, op: x[2] as Matcher['op'], value: x[3]!.replace(/\\(.)/g, '$1') }))
      // a Grafana variable is no fixed value
      .filter((x) => !x.value.includes('$')),
  }));
}

function deployExpressions(): Wanted[] {
  const grafanaDir = join(DEPLOY, 'grafana');
  const grafana = readdirSync(grafanaDir).filter((f) => f.endsWith('.json')).flatMap((f) => {
    const board = JSON.parse(readFileSync(join(grafanaDir, f), 'utf8')) as { panels: { title: string; targets?: { expr?: string }[] }[] };
    return board.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => (t.expr ? selectors(t.expr, `grafana ${f}: ${p.title}`) : [])));
  });
  const yaml = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const path = join(dir, f);
      if (statSync(path).isDirectory()) return yaml(path);
      // the rules' own unit tests feed series in; they query nothing
      return /\.ya?ml$/.test(f) && !f.endsWith('.test.yml') ? [path] : [];
    });
  const rules = [...yaml(join(DEPLOY, 'prometheus')), ...yaml(join(DEPLOY, 'kubernetes'))].flatMap((path) =>
    // only the expressions (rules' `expr:`, KEDA's `query:`), not comments or annotations
    parseAllDocuments(readFileSync(path, 'utf8')).flatMap((doc) => expressions(doc.toJS())).flatMap((e) => selectors(e, path.slice(DEPLOY.length))),
  );
  return [...grafana, ...rules];
}

/** Every string under an `expr` or `query` key, at any depth. Pure. */
function expressions(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(expressions);
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => ((k === 'expr' || k === 'query') && typeof v === 'string' ? [v] : expressions(v)));
}

type Series = { name: string; labels: Record<string, string> };

function parseExposition(text: string): Series[] {
  return text.split('\n').flatMap((line) => {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+/.exec(line);
    if (!m || line.startsWith('#')) return [];
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    return [{ name: m[1]!, labels }];
  });
}

function satisfies(series: Series, want: Wanted): boolean {
  if (series.name !== want.name) return false;
  return want.matchers.every(({ label, op, value }) => {
    const v = series.labels[label] ?? '';
    const re = new RegExp(`^(?:${value})$`);
    return op === '=' ? v === value : op === '!=' ? v !== value : op === '=~' ? re.test(v) : !re.test(v);
  });
}

function missing(wanted: Wanted[], text: string): string[] {
  const series = parseExposition(text);
  return wanted.filter((w) => !series.some((s) => satisfies(s, w))).map((w) => `${w.name}{${w.matchers.map((m) => `${m.label}${m.op}"${m.value}"`).join(',')}} (${w.from})`);
}

describe('metrics from zero', () => {
  const dir = tempDir('metrics-zero');
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let service: ServiceProcess | undefined;
  let port: number;

  beforeAll(async () => {
    [dovecot, sim] = await Promise.all([startDovecot(), createFaspexSim()]);
    port = await freePort();
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await Promise.all([dovecot?.stop(), sim?.close()]);
    dir.remove();
  });

  it('the deploy files query series; the parser finds the ones they are known to use', () => {
    const wanted = deployExpressions();
    const names = new Set(wanted.map((w) => w.name));
    for (const n of ['faspex_ingest_packages_failed_total', 'faspex_ingest_mails_failed_total', 'faspex_ingest_jobs', 'faspex_ingest_inbox_mode', 'faspex_ingest_download_dir_free_bytes']) expect(names, n).toContain(n);
    expect(wanted.find((w) => w.name === 'faspex_ingest_inbox_mode')?.matchers).toEqual([{ label: 'mode', op: '=', value: 'standby' }]);
    // and the matching is strict: a series with another label value does not count
    expect(missing(selectors('x{mode="standby"} faspex_ingest_inbox_mode{mode="standby"}', 't'), 'faspex_ingest_inbox_mode{inbox="a",mode="idle"} 1\n')).toHaveLength(1);
  });

  it('a fresh `run` exports every series the dashboard, the alerts and the autoscaler query', { timeout: 120_000 }, async () => {
    // one ordinary mail, read at start: the inbox then has a last-mail time, and nothing failed
    await dovecot.deliver(['From: Ann <ann@example.com>', 'To: ingest@example.com', 'Subject: lunch?', 'Message-ID: <lunch-1@example.com>', 'Date: Mon, 07 Dec 2026 03:00:00 +0000', '', 'No package here, just lunch.', ''].join('\r\n'));
    // a Faspex 5 server with an API client: its missed-by-mail counter is known in advance
    const api = sim.faspex5.addApiClient({ user: sim.credentials.username });
    const env = serviceEnv({
      redisUrl: inject('redisUrl'), prefix: uniqueName('mzero'), dovecot, sim, dir: dir.path, dashboardPort: port,
      extra: { FASPEX5_CLIENTS: sim.faspex5.clientsJson(join(dir.path, 'keys'), [api]) },
    });
    service = startServiceProcess(['run'], env, dir.path);
    await waitFor(() => service!.output().includes('running; dashboard at'), { what: 'the service to start', timeoutMs: 60_000 });
    const wanted = deployExpressions();
    let last: string[] = [];
    const text = await waitFor(async () => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      last = missing(wanted, body);
      // the listener reads the mail and publishes its inbox's health shortly after start
      return last.length === 0 && /^faspex_ingest_mails_read_total 1$/m.test(body) ? body : undefined;
    }, { what: 'every queried series', timeoutMs: 60_000, intervalMs: 250 }).catch((e: unknown) => {
      throw new Error(`${String(e)}\nmissing from /metrics of a fresh service:\n  ${last.join('\n  ')}`);
    });
    // the failure counters are there, at 0, for every known value
    expect(text).toMatch(/^faspex_ingest_packages_failed_total\{code="LINK_EXPIRED"\} 0$/m);
    expect(text).toMatch(/^faspex_ingest_mails_failed_total\{reason="damaged"\} 0$/m);
    expect(text).toMatch(/^faspex_ingest_disk_space_waits_total\{cause="disk_full"\} 0$/m);
  });
});
