import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { findCycles, importGraph, typeScriptFiles } from '../../scripts/import-cycles.js';
import { tempDir } from '../support/temp.js';

const SCRIPT = new URL('../../scripts/import-cycles.ts', import.meta.url).pathname;
const dirs: Array<{ remove(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

/** A folder of modules: name → source. */
function project(files: Record<string, string>): string {
  const dir = tempDir('cycles');
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir.path, name, '..'), { recursive: true });
    writeFileSync(join(dir.path, name), text);
  }
  return dir.path;
}

const cyclesIn = (root: string) => findCycles(importGraph(typeScriptFiles(root))).map((c) => c.path.map((f) => f.slice(root.length + 1)));

describe('the import-circle check', () => {
  // Each edge kind on its own closes a circle a → b → a.
  it.each([
    ['a value import', "import { b } from './b.js';"],
    ['a type-only import (the shape the listener had)', "import type { B } from './b.js';"],
    ['an inline type import', "import { type B } from './b.js';"],
    ['a re-export', "export { b } from './b.js';"],
    ['a type re-export', "export type { B } from './b.js';"],
    ['a star re-export', "export * from './b.js';"],
    ['a dynamic import', "export const load = () => import('./b.js');"],
    ['an import type node', "export type X = import('./b.js').B;"],
  ])('finds a circle closed by %s', (_what, edge) => {
    const root = project({ 'a.ts': `${edge}\nexport const a = 1;\nexport type A = number;\n`, 'b.ts': "import { a, type A } from './a.js';\nexport const b = a;\nexport type B = A;\n" });
    expect(cyclesIn(root)).toEqual([['a.ts', 'b.ts', 'a.ts']]);
  });

  it('finds a three-module circle through folders, and a module importing itself', () => {
    const root = project({
      'mail/listener.ts': "import { p } from './process.js';\nexport type Deps = { n: number };\nexport const l = p;\n",
      'mail/process.ts': "import { r } from './read/chunk.js';\nexport const p = r;\n",
      'mail/read/chunk.ts': "import type { Deps } from '../listener.js';\nexport const r = 1 as Deps['n'];\n",
      'self.ts': "import { s } from './self.js';\nexport const t = s;\nexport const s = 1;\n",
    });
    expect(cyclesIn(root)).toEqual([['mail/listener.ts', 'mail/process.ts', 'mail/read/chunk.ts', 'mail/listener.ts'], ['self.ts', 'self.ts']]);
  });

  it('passes a graph that only goes one way, and ignores packages', () => {
    const root = project({
      'types.ts': "import type { Redis } from 'ioredis';\nexport type T = Redis;\n",
      'a.ts': "import type { T } from './types.js';\nimport { b } from './b.js';\nexport const a: T | number = b;\n",
      'b.ts': "import type { T } from './types.js';\nexport const b: T | number = 1;\n",
    });
    expect(cyclesIn(root)).toEqual([]);
  });

  it('as a command, exits 1 naming the circle, and 0 when there is none', async () => {
    const bad = project({ 'x.ts': "import './y.js';\n", 'y.ts': "import './x.js';\n" });
    const failed = await execa(process.execPath, ['--import', 'tsx', SCRIPT, bad], { reject: false });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain('import circle: ');
    expect(failed.stderr).toMatch(/x\.ts → .*y\.ts → .*x\.ts/);
    const good = project({ 'x.ts': "import './y.js';\n", 'y.ts': 'export {};\n' });
    const passed = await execa(process.execPath, ['--import', 'tsx', SCRIPT, good], { reject: false });
    expect(passed.exitCode).toBe(0);
  });
});
