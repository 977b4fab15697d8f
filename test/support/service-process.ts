/** A real `faspex-ingest <command>` child process with its output kept for assertions. */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './cli.js';

export interface ServiceProcess {
  readonly child: ChildProcess;
  output(): string;
  /** resolves with the exit code (or the signal name) */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** `nodeArgs`: flags for node itself (e.g. --cpu-prof, which NODE_OPTIONS refuses); `bin`: the entry script. */
/**
 * `nodeArgs: 'as-installed'` runs the bin file itself, as a user's shell or npm's bin link does
 * (through its sh line, with the `node` first in PATH); otherwise this node runs it with the flags.
 */
export function startServiceProcess(command: string[], env: Record<string, string>, cwd: string, nodeArgs: string[] | 'as-installed' = [], bin = BIN): ServiceProcess {
  const [file, args] = nodeArgs === 'as-installed' ? [bin, command] : [process.execPath, [...nodeArgs, bin, ...command]];
  const child = spawn(file, args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => chunks.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => chunks.push(d));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    output: () => {
      // joined lazily: tens of thousands of log lines would make repeated string += quadratic
      const all = chunks.join('');
      chunks.splice(0, chunks.length, all);
      return all;
    },
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
