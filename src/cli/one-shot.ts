/**
 * The one-shot commands, started close to bare Node (issue 23, docs/benchmarks.md): `fasp-url`,
 * `extract` and every `--help` are recognised here without commander and without the eleven
 * command definitions, and only what the command uses is loaded. Help texts are commander's own,
 * recorded at build time (help-snapshot.ts). Anything not recognised exactly (another command, a
 * global option, an unknown or abbreviated option, a missing or extra argument, `--`) returns
 * undefined, and the full CLI (main.ts) reads it as it always did, errors included. So both
 * paths print the same and exit alike: test/unit/cli-one-shot.test.ts runs a table of argv,
 * bad input among it, through both.
 */
import { readFileSync } from 'node:fs';
import type { CliIo } from './command.js';

export interface HelpRun {
  stdout: string;
  stderr: string;
  code: number;
}

/** helpKey(argv) → what the full CLI prints for that argv */
export type HelpSnapshot = Record<string, HelpRun>;

export const helpKey = (argv: readonly string[]): string => argv.join('\0');

/** Whether commander wraps help written to `stream` at its default width, 80, as recorded. */
export function helpWidthIsDefault(stream: { isTTY?: boolean; columns?: number }): boolean {
  return stream.isTTY !== true || stream.columns === 80;
}

export type OneShot = () => Promise<number>;

interface OptionSpec {
  key: string;
  takesValue: boolean;
}

const TRANSFER_OPTIONS: Record<string, OptionSpec> = {
  '-f': { key: 'format', takesValue: true },
  '--format': { key: 'format', takesValue: true },
  '--to': { key: 'to', takesValue: true },
  '--show-secrets': { key: 'showSecrets', takesValue: false },
};
const EXTRACT_OPTIONS: Record<string, OptionSpec> = {
  '--show-secrets': { key: 'showSecrets', takesValue: false },
};

/** The built snapshot next to the compiled file; none when running from src/ or built without one. */
function builtSnapshot(): HelpSnapshot | undefined {
  try {
    return JSON.parse(readFileSync(new URL('./help.json', import.meta.url), 'utf8')) as HelpSnapshot;
  } catch {
    return undefined;
  }
}

/**
 * What running `argv` takes, when this path knows it exactly; undefined: ask the full CLI.
 * `snapshot` is read only for a help request.
 */
export function oneShot(argv: readonly string[], io: CliIo, snapshot: () => HelpSnapshot | undefined = builtSnapshot): OneShot | undefined {
  if (argv.includes('--help') || argv.includes('-h')) return help(argv, io, snapshot());
  const [command, ...rest] = argv;
  if (command === 'fasp-url') {
    const parsed = parseArgs(rest, TRANSFER_OPTIONS);
    if (!parsed || parsed.positional.length !== 1) return undefined;
    const { format, to, showSecrets } = parsed.values;
    const options = { format: typeof format === 'string' ? format : 'transfer-spec', ...(typeof to === 'string' ? { to } : {}), ...(showSecrets ? { showSecrets: true } : {}) };
    return () => runCommand(io, () => import('./one-shot-fasp-url.js'), (m) => m.faspUrl(parsed.positional[0]!, options, io));
  }
  if (command === 'extract') {
    const parsed = parseArgs(rest, EXTRACT_OPTIONS);
    if (!parsed || parsed.positional.length > 1) return undefined;
    const options = parsed.values.showSecrets ? { showSecrets: true } : {};
    return () => runCommand(io, () => import('./one-shot-extract.js'), (m) => m.extract(parsed.positional[0], options, io));
  }
  return undefined;
}

/** oneShot for this process's own argv and streams, as bin/faspex-ingest starts it. */
export function oneShotOfProcess(argv: readonly string[]): OneShot | undefined {
  // the streams are made on first use: most runs write to one of them only, and none reads
  // stdin but `extract` without a file
  return oneShot(argv, {
    env: process.env,
    cwd: process.cwd(),
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
  });
}

function help(argv: readonly string[], io: CliIo, snapshot: HelpSnapshot | undefined): OneShot | undefined {
  const recorded = snapshot && Object.hasOwn(snapshot, helpKey(argv)) ? snapshot[helpKey(argv)] : undefined;
  if (!recorded || (recorded.stdout && !helpWidthIsDefault(io.stdout)) || (recorded.stderr && !helpWidthIsDefault(io.stderr))) return undefined;
  return async () => {
    if (recorded.stdout) io.stdout.write(recorded.stdout);
    if (recorded.stderr) io.stderr.write(recorded.stderr);
    return recorded.code;
  };
}

async function runCommand<M extends { reportFailure: (err: unknown, io: CliIo) => number }>(io: CliIo, load: () => Promise<M>, work: (m: M) => Promise<void> | void): Promise<number> {
  const m = await load();
  try {
    await work(m);
    // EXIT.ok, written out: this entry imports no other module, so that handing a command to the
    // full CLI loads nothing of the bundle besides it (test/unit/cli-one-shot.test.ts)
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return m.reportFailure(err, io);
  }
}

/**
 * Options and arguments as commander reads them, for the forms this path takes on: `--opt value`,
 * `--opt=value`, `-f value`, flags, arguments anywhere. undefined for any other token starting
 * with `-` (`-`, `--`, `-fvalue`, an unknown option) and for a value that starts with `-`.
 */
function parseArgs(tokens: readonly string[], spec: Record<string, OptionSpec>): { positional: string[]; values: Record<string, string | true> } | undefined {
  const positional: string[] = [];
  const values: Record<string, string | true> = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.startsWith('-')) {
      positional.push(token);
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = eq > 0 ? token.slice(0, eq) : token;
    const option = Object.hasOwn(spec, name) ? spec[name]! : undefined;
    if (!option) return undefined;
    if (!option.takesValue) {
      if (eq > 0) return undefined;
      values[option.key] = true;
      continue;
    }
    const value = eq > 0 ? token.slice(eq + 1) : tokens[++i];
    if (value === undefined || (eq < 0 && value.startsWith('-'))) return undefined;
    values[option.key] = value;
  }
  return { positional, values };
}
