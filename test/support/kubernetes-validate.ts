/**
 * Offline validation of Kubernetes objects against the API's schemas, two ways:
 * - `kubernetes-models` (and `@kubernetes-models/keda` for KEDA's CRDs): the OpenAPI schemas
 *   compiled to validators: types, required fields, enums, formats. They accept unknown fields.
 * - the same packages' TypeScript interfaces: each object becomes an object literal typed as its
 *   kind, and TypeScript's excess-property check rejects every field the schema does not have (a
 *   misspelt `periodSecond` would otherwise be dropped silently by the API server), like
 *   kubeconform's -strict.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string };
  [key: string]: unknown;
}

/** the module of a kind's model: kubernetes-models/apps/v1/Deployment, .../keda/keda.sh/v1alpha1/ScaledObject */
export function modelModule(o: Pick<K8sObject, 'apiVersion' | 'kind'>): string {
  if (o.apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${o.apiVersion}/${o.kind}`;
  return `kubernetes-models/${o.apiVersion}/${o.kind}`;
}

/** the schema's complaint about one object, or undefined when it is valid */
export async function schemaProblem(o: K8sObject): Promise<string | undefined> {
  let Model: new (data: unknown) => { validate(): void };
  try {
    Model = ((await import(modelModule(o))) as Record<string, new (data: unknown) => { validate(): void }>)[o.kind]!;
  } catch {
    return `no schema known for ${o.apiVersion} ${o.kind}`;
  }
  try {
    new Model(o).validate();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** TypeScript's complaints about fields the kinds do not have (or of the wrong type), per object */
export function strictFieldProblems(objects: K8sObject[], root: string): string[] {
  const dir = join(root, 'node_modules', '.cache', `k8s-check-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'objects.ts');
  const lines = objects.map((o, i) => `import type { I${o.kind} as T${i} } from '${modelModule(o)}';\nexport const o${i}: T${i} = ${JSON.stringify(o, null, 1)};`);
  writeFileSync(file, lines.join('\n'));
  try {
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, skipLibCheck: true, types: [],
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return text;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const src = d.file.text.split('\n');
      // name the object the line belongs to
      const owner = src.slice(0, line + 1).reverse().find((l) => l.startsWith('export const o'))?.match(/o(\d+)/)?.[1];
      const o = owner === undefined ? undefined : objects[Number(owner)];
      return `${o ? `${o.kind}/${o.metadata?.name}` : '?'}: ${src[line]?.trim()}: ${text.split('\n')[0]}`;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
