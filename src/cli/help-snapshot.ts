/**
 * The CLI's help texts, recorded at build time (scripts/build.mjs runs this file) from commander
 * itself, so the one-shot path (one-shot.ts) prints them without loading commander and the eleven
 * command definitions, and they can never drift: each is what `main` prints for that argv, stdout,
 * stderr and exit status, at commander's default width (80, a pipe or an 80-column terminal).
 * test/unit/cli-one-shot.test.ts compares the recorded texts with commander's output.
 *
 *   node dist/src/cli/help-snapshot.js OUT.json
 */
import { writeFileSync } from 'node:fs';
import type { CliIo } from './command.js';
import { main } from './main.js';
import { helpKey, helpWidthIsDefault, type HelpSnapshot } from './one-shot.js';
import { buildProgram } from './program.js';

/** Every help request the one-shot path answers: the program's and each command's, both flags. */
export function helpArgvs(): string[][] {
  const names = buildProgram(silentIo()).commands.map((c) => c.name());
  return [['--help'], ['-h'], ...names.flatMap((n) => [[n, '--help'], [n, '-h']])];
}

export async function captureHelp(): Promise<HelpSnapshot> {
  // commander wraps to the width of a terminal on stdout/stderr; the record is at its default
  if (!helpWidthIsDefault(process.stdout) || !helpWidthIsDefault(process.stderr)) throw new Error('help-snapshot: run it with stdout and stderr not on a terminal (or on an 80-column one)');
  const snapshot: HelpSnapshot = {};
  for (const argv of helpArgvs()) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { ...silentIo(), stdout: sink(out), stderr: sink(err) });
    snapshot[helpKey(argv)] = { stdout: out.join(''), stderr: err.join(''), code };
  }
  return snapshot;
}

function sink(into: string[]): CliIo['stdout'] {
  return { write: (s: string | Uint8Array) => into.push(String(s)) > 0 } as unknown as CliIo['stdout'];
}

function silentIo(): CliIo {
  return {
    env: {},
    cwd: process.cwd(),
    stdout: sink([]),
    stderr: sink([]),
    get stdin() {
      return process.stdin;
    },
  };
}

const out = process.argv[2];
if (process.argv[1]?.endsWith('help-snapshot.js') && out) writeFileSync(out, `${JSON.stringify(await captureHelp())}\n`);
