/**
 * bin/faspex-ingest run directly (as npm's bin link and `npm start` run it): its first line is
 * sh, which gives the long-running commands V8's young-generation flag on every Node line
 * (Node 20 cannot add it later), by exec, so the PID is node's and signals reach it.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { YOUNG_GENERATION_FLAG } from '../../src/service/node-memory.js';
import { BIN } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const PRELOAD = fileURLToPath(new URL('../support/node-flags/preload.mjs', import.meta.url));

interface Start {
  pid: number;
  execArgv: string[];
}

const dirs: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

/** Runs bin/faspex-ingest itself (no `node` in front) with no configuration, so `run` exits at once. */
async function startsOf(args: string[], nodeOptions = ''): Promise<{ childPid: number; starts: Start[] }> {
  const dir = tempDir('bin-shell');
  dirs.push(dir);
  const file = join(dir.path, 'starts.jsonl');
  const child = spawn(BIN, args, {
    cwd: dir.path,
    // the node running the tests first in PATH: the one bin's sh starts
    env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: dir.path, NODE_OPTIONS: `--import=${PRELOAD} ${nodeOptions}`.trim(), NODE_FLAGS_FILE: file },
    stdio: 'ignore',
  });
  await new Promise((resolve) => child.once('exit', resolve));
  const starts = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Start);
  return { childPid: child.pid!, starts };
}

describe('bin/faspex-ingest run directly', () => {
  it('starts `run` with the young-generation flag, as the PID it was spawned as', async () => {
    const { childPid, starts } = await startsOf(['run']);
    expect(starts.length).toBeGreaterThan(0);
    for (const s of starts) expect(s.pid).toBe(childPid);
    expect(starts[0]!.execArgv).toContain(YOUNG_GENERATION_FLAG);
  });

  it('starts a one-shot command as plain node', async () => {
    const { starts } = await startsOf(['status']);
    expect(starts.map((s) => s.execArgv)).toEqual([[]]);
  });

  it('leaves the young generation to an operator who set it in NODE_OPTIONS', async () => {
    const { starts } = await startsOf(['listen'], '--max-semi-space-size=8');
    for (const s of starts) expect(s.execArgv.filter((f) => f.includes('semi-space'))).toEqual([]);
  });
});
