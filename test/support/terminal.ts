/**
 * Runs the real `bin/faspex-ingest` on a pseudo-terminal, as a person at a shell would, through
 * util-linux `script` (Debian's bsdutils, which every Debian has). stdout and stderr arrive
 * merged, as on a screen; line endings are normalised to \n.
 */
import { spawn } from 'node:child_process';
import { BIN, type CliRun } from './cli.js';

export function runInTerminal(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {}): Promise<Omit<CliRun, 'stderr'>> {
  // the arguments travel as environment variables: no shell quoting of links with ? and &
  const argVars = Object.fromEntries(args.map((a, i) => [`FI_ARG${i}`, a]));
  const command = `exec "$FI_NODE" "$FI_BIN" ${args.map((_, i) => `"$FI_ARG${i}"`).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: options.cwd ?? '/tmp',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SHELL: '/bin/sh', LOG_LEVEL: 'warn', ...options.env, ...argVars, FI_NODE: process.execPath, FI_BIN: BIN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout: out.replace(/\r\n/g, '\n') });
    });
  });
}
