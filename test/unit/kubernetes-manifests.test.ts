/**
 * deploy/kubernetes validated offline: every object against the Kubernetes (and KEDA) schemas,
 * strictly (no unknown fields); `kubectl kustomize` rendered and validated the same where kubectl
 * is installed; and the facts the manifests rest on checked against the code: probes on the port
 * each role serves, stop times, budgets that select pods, every secret file mounted, each role's
 * environment accepted by the product's own configuration loader.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type Role } from '../../src/config/config.js';
import { schemaProblem, strictFieldProblems, type K8sObject } from '../support/kubernetes-validate.js';
import { tempDir } from '../support/temp.js';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'deploy', 'kubernetes');

const parse = (text: string): K8sObject[] => parseAllDocuments(text).map((d) => d.toJS() as K8sObject).filter(Boolean);
const read = (file: string) => parse(readFileSync(join(DIR, file), 'utf8'));

interface Kustomization { resources?: string[]; components?: string[]; configMapGenerator?: Array<{ name: string; envs: string[] }> }

/** every object the kustomization names, read without kustomize (its resources and components' resources) */
function sources(): K8sObject[] {
  const top = read('kustomization.yaml')[0] as unknown as Kustomization;
  const fromComponents = (top.components ?? []).flatMap((c) => ((read(join(c, 'kustomization.yaml'))[0] as unknown as Kustomization).resources ?? []).map((r) => join(c, r)));
  return [...(top.resources ?? []), ...fromComponents].flatMap(read);
}

const objects = sources();
const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
function find<T>(kind: string, name: string): T {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name);
  expect(o, `${kind}/${name}`).toBeDefined();
  return o as T;
}
const deployment = (name: string) => find<IDeployment>('Deployment', name);
const podSpec = (d: IDeployment | IStatefulSet): IPodSpec => d.spec!.template.spec!;
const envOf = (c: IContainer) => Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
const configEnv = () => Object.fromEntries(readFileSync(join(DIR, 'config.env'), 'utf8').split('\n').filter((l) => /^[A-Z]/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('deploy/kubernetes', () => {
  const scratch = tempDir('k8s');
  afterAll(() => scratch.remove());

  it('names the objects of a full deployment', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort()).toEqual([
      'Deployment/faspex-ingest-dashboard', 'Deployment/faspex-ingest-listener', 'Deployment/faspex-ingest-workers',
      'Namespace/faspex-ingest', 'NetworkPolicy/faspex-ingest-redis',
      'PersistentVolumeClaim/faspex-ingest-aspera', 'PersistentVolumeClaim/faspex-ingest-downloads',
      'PodDisruptionBudget/faspex-ingest-listener', 'PodDisruptionBudget/faspex-ingest-workers',
      'ScaledObject/faspex-ingest-workers', 'Service/faspex-ingest-dashboard', 'Service/faspex-ingest-redis', 'StatefulSet/faspex-ingest-redis',
    ]);
  });

  it('every object is valid against its schema (KEDA CRDs included)', async () => {
    const problems = await Promise.all(objects.map(async (o) => [`${o.kind}/${o.metadata?.name}`, await schemaProblem(o)] as const));
    expect(problems.filter(([, p]) => p !== undefined)).toEqual([]);
  });

  it('no object has a field its kind does not know (strict)', () => {
    expect(strictFieldProblems(objects, ROOT)).toEqual([]);
  }, 120_000);

  it('the validators can fail: a misspelt field, a wrong type, an unknown kind', async () => {
    const bad = structuredClone(deployment('faspex-ingest-workers'));
    const c = bad.spec!.template.spec!.containers[0]!;
    Object.assign(c.livenessProbe!, { periodSecond: 30 });
    Object.assign(c.ports![0]!, { containerPort: '9464' });
    expect(await schemaProblem(bad as K8sObject)).toContain('containerPort must be integer');
    const strict = strictFieldProblems([bad as K8sObject], ROOT).join('\n');
    expect(strict).toContain("'\"periodSecond\"' does not exist in type 'IProbe'");
    expect(await schemaProblem({ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledThing' })).toContain('no schema known');
  }, 120_000);

  it('`kubectl kustomize` renders it, and what it renders is valid', async (ctx) => {
    const version = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
    if (version.status !== 0) return ctx.skip('kubectl is not installed here (the objects are validated from the files above)');
    console.info(`kubectl: ${version.stdout.split('\n').slice(0, 2).join('; ')}`);
    const kustomize = spawnSync('kubectl', ['kustomize', DIR], { encoding: 'utf8', timeout: 60_000 });
    // Debian 12's kubernetes-client (1.20) bundles a kustomize without components
    if (kustomize.status !== 0 && /component/i.test(kustomize.stderr)) return ctx.skip(`this kubectl's kustomize is too old for components: ${version.stdout.split('\n')[0]}`);
    expect(kustomize.stderr).toBe('');
    const rendered = parse(kustomize.stdout);
    expect(rendered.map((o) => `${o.kind}/${o.metadata?.name?.replace(/-[a-z0-9]{10}$/, '')}`).sort()).toEqual(
      [...objects.map((o) => `${o.kind}/${o.metadata?.name}`), 'ConfigMap/faspex-ingest-config'].sort(),
    );
    for (const o of rendered) if (o.kind !== 'Namespace') expect(o.metadata?.namespace, `${o.kind}/${o.metadata?.name}`).toBe('faspex-ingest');
    // the generated ConfigMap's hashed name reaches every role, so a change rolls the pods
    const configMap = rendered.find((o) => o.kind === 'ConfigMap')!.metadata!.name!;
    for (const d of rendered.filter((o) => o.kind === 'Deployment')) expect(JSON.stringify(d)).toContain(`"name":"${configMap}"`);
    expect((await Promise.all(rendered.map(schemaProblem))).filter(Boolean)).toEqual([]);
    expect(strictFieldProblems(rendered, ROOT)).toEqual([]);
  }, 120_000);

  // role, command, the port /healthz is served on, the stop time the code needs (docs/deployment.md "Stop times")
  const roles: Array<[string, Role, string, number]> = [
    ['faspex-ingest-listener', 'listen', 'METRICS_PORT', 30],
    ['faspex-ingest-workers', 'work', 'METRICS_PORT', 60],
    ['faspex-ingest-dashboard', 'dashboard', 'DASHBOARD_PORT', 15],
  ];

  it.each(roles)('%s: probes /healthz on the port the role serves, on all interfaces, with its stop time', (name, command, portVariable, grace) => {
    const spec = podSpec(deployment(name));
    const [c] = spec.containers;
    expect(c!.args).toEqual([command]);
    const env = envOf(c!);
    expect(env.DASHBOARD_HOST).toBe('0.0.0.0');
    const port = Number(env[portVariable]);
    const named = c!.ports!.find((p) => p.containerPort === port);
    expect(named, `a container port for ${portVariable}=${port}`).toBeDefined();
    for (const probe of [c!.livenessProbe, c!.readinessProbe, c!.startupProbe]) {
      expect(probe?.httpGet).toEqual({ path: '/healthz', port: named!.name });
    }
    // liveness tolerates a Redis outage (503) for minutes: a restart cannot bring Redis back
    expect(c!.livenessProbe!.periodSeconds! * c!.livenessProbe!.failureThreshold!).toBeGreaterThanOrEqual(300);
    expect(spec.terminationGracePeriodSeconds).toBe(grace);
  });

  it.each(roles)("%s: every secret file is mounted, and the product's config loader accepts the environment", (name, command) => {
    const spec = podSpec(deployment(name));
    const [c] = spec.containers;
    const secretVolume = spec.volumes!.find((v) => v.secret)!;
    const mount = c!.volumeMounts!.find((m) => m.name === secretVolume.name)!;
    const items = secretVolume.secret!.items!.map((i) => i.path);
    const env: Record<string, string> = { ...configEnv(), ...envOf(c!) };
    // the Secret as an operator creates it: one file per item, in a scratch folder standing for the mount
    for (const [k, v] of Object.entries(env)) {
      if (!k.endsWith('_FILE')) continue;
      expect(v.startsWith(`${mount.mountPath}/`), `${k} under the secret mount`).toBe(true);
      const item = v.slice(mount.mountPath.length + 1);
      expect(items, `${k}: item ${item}`).toContain(item);
      const local = join(scratch.path, `${name}-${item}`);
      // faspex-password empty: no Faspex account (FASPEX_USERNAME unset), as README.md there says
      writeFileSync(local, item === 'redis-url' ? 'redis://faspex-ingest-redis:6379' : item === 'faspex-password' ? '' : 'a password');
      env[k] = local;
    }
    for (const e of c!.env ?? []) if (e.valueFrom?.secretKeyRef) env[e.name] = 'admin';
    env.DATA_DIR = join(scratch.path, 'data');
    env.DOWNLOAD_DIR = join(scratch.path, 'downloads');
    expect(() => loadConfig(env, command, scratch.path)).not.toThrow();
  });

  it('the listener runs two replicas, rolls one at a time, and keeps one through a disruption', () => {
    const listener = deployment('faspex-ingest-listener');
    expect(listener.spec!.replicas).toBe(2);
    expect(listener.spec!.strategy!.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    for (const b of byKind('PodDisruptionBudget') as IPodDisruptionBudget[]) {
      const target = (byKind('Deployment') as IDeployment[]).find((d) => {
        const labels = d.spec!.template.metadata!.labels!;
        return Object.entries(b.spec!.selector!.matchLabels!).every(([k, v]) => labels[k] === v);
      });
      expect(target, `PodDisruptionBudget/${b.metadata!.name} selects a Deployment's pods`).toBeDefined();
    }
    expect(find<IPodDisruptionBudget>('PodDisruptionBudget', 'faspex-ingest-listener').spec!.minAvailable).toBe(1);
  });

  it('workers share the downloads volume (ReadWriteMany) and scale on the queue at WORKER_CONCURRENCY jobs a pod', () => {
    const claim = find<IPersistentVolumeClaim>('PersistentVolumeClaim', 'faspex-ingest-downloads');
    expect(claim.spec!.accessModes).toEqual(['ReadWriteMany']);
    const volumes = podSpec(deployment('faspex-ingest-workers')).volumes!;
    expect(volumes.find((v) => v.persistentVolumeClaim?.claimName === 'faspex-ingest-downloads')).toBeDefined();
    const scaled = find<IScaledObject>('ScaledObject', 'faspex-ingest-workers');
    expect(scaled.spec.scaleTargetRef.name).toBe('faspex-ingest-workers');
    const trigger = scaled.spec.triggers[0]!;
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metadata.query).toContain('faspex_ingest_jobs{queue="downloads",state=~"waiting|prioritized|active"}');
    expect(Number(trigger.metadata.threshold)).toBe(Number(configEnv().WORKER_CONCURRENCY));
  });

  it('the in-cluster Redis keeps an append-only file and never evicts', () => {
    const args = podSpec(find<IStatefulSet>('StatefulSet', 'faspex-ingest-redis')).containers[0]!.args!;
    const flag = (f: string) => args[args.indexOf(f) + 1];
    expect([flag('--appendonly'), flag('--maxmemory-policy')]).toEqual(['yes', 'noeviction']);
  });
});
