import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A fresh temp dir owned by one test; remove() is idempotent. */
export function tempDir(label: string): { readonly path: string; remove(): void } {
  // made on first use, not when the describe body runs: collecting the tests (vitest list, a
  // filtered run) then leaves no empty folder behind
  let made: string | undefined;
  return {
    get path() {
      return (made ??= mkdtempSync(join(tmpdir(), `fi-${label}-`)));
    },
    remove: () => {
      if (made) rmSync(made, { recursive: true, force: true });
    },
  };
}

/** A unique name for queues, prefixes and keys, so tests never share state. */
export function uniqueName(label: string): string {
  return `t-${label}-${randomBytes(4).toString('hex')}`;
}

/** Polls `check` until it returns a truthy value or the deadline passes; no fixed sleeps. */
export async function waitFor<T>(check: () => T | Promise<T>, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
  }
}
