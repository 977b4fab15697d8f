import { describe, expect, it } from 'vitest';
import { OLD_GENERATION_FLAG, YOUNG_GENERATION_FLAG, planNodeMemory } from '../../src/service/node-memory.js';

const both = [YOUNG_GENERATION_FLAG, OLD_GENERATION_FLAG];

describe('planNodeMemory', () => {
  const cases: Array<{ name: string; args: string[]; execArgv?: string[]; nodeOptions?: string; canExec: boolean; relaunchWith: string[]; setNow: string[] }> = [
    { name: 'run on a Node with execve: relaunch with both', args: ['run'], canExec: true, relaunchWith: both, setNow: [] },
    { name: 'listen, work, dashboard, demo are long-running too', args: ['work'], canExec: true, relaunchWith: both, setNow: [] },
    { name: 'run on Node 20 (no execve): the run-time flag only', args: ['run'], canExec: false, relaunchWith: [], setNow: [OLD_GENERATION_FLAG] },
    { name: 'already relaunched: nothing more', args: ['run'], execArgv: both, canExec: true, relaunchWith: [], setNow: [] },
    { name: 'an operator-given young generation wins, growth still set', args: ['listen'], execArgv: ['--max-semi-space-size=8'], canExec: true, relaunchWith: [], setNow: [OLD_GENERATION_FLAG] },
    { name: 'NODE_OPTIONS counts as given', args: ['run'], nodeOptions: '--max-semi-space-size=4 --import=x.mjs', canExec: true, relaunchWith: [], setNow: [OLD_GENERATION_FLAG] },
    { name: 'underscores spell the same flag', args: ['run'], execArgv: ['--max_semi_space_size=4', '--heap_growing_percent=20'], canExec: true, relaunchWith: [], setNow: [] },
    { name: 'a flag given without =value counts', args: ['run'], execArgv: ['--max-semi-space-size', '4'], canExec: true, relaunchWith: [], setNow: [OLD_GENERATION_FLAG] },
    { name: 'an operator-given growth is kept in the relaunch', args: ['run'], execArgv: ['--heap-growing-percent=20'], canExec: true, relaunchWith: [YOUNG_GENERATION_FLAG], setNow: [] },
    { name: 'one-shot commands start as plain node', args: ['download', 'https://x'], canExec: true, relaunchWith: [], setNow: [] },
    { name: 'help', args: ['--help'], canExec: true, relaunchWith: [], setNow: [] },
    { name: 'no command', args: [], canExec: true, relaunchWith: [], setNow: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(planNodeMemory({ args: c.args, execArgv: c.execArgv ?? [], nodeOptions: c.nodeOptions, canExec: c.canExec })).toEqual({ relaunchWith: c.relaunchWith, setNow: c.setNow });
    });
  }
});
