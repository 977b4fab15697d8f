import { InvalidArgumentError } from 'commander';
import { accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type CliCommand } from '../command.js';

export const demoCommand: CliCommand = {
  register(program, io) {
    program
      .command('demo')
      .description('a self-contained tour on this machine with stand-in servers')
      .option('--dir <dir>', 'where the demo keeps its data and downloads (default: faspex-ingest-demo here, or in the temp folder when this folder is read-only, as in the image)')
      .option('--dashboard-port <port>', 'dashboard port (0 picks a free one)', parsePort, 3000)
      .option('--exit', 'exit once the sample packages are on disk')
      .helpOption('-h, --help', 'show help')
      .addHelpText(
        'after',
        '\nStarts a local redis-server, a stand-in Faspex server and a stand-in ascp (both clearly\nlabelled; no IBM software is used), delivers sample notification mails to a local Dovecot\n(when installed), and lets the real listener, queue, workers and dashboard download them.\nNeeds: apt-get install -y redis-server (and dovecot-imapd dovecot-lmtpd for the mail part).',
      )
      .action(async (opts: { dir?: string; dashboardPort: number; exit?: boolean }) => {
        const { runDemo } = await import('../../demo/run-demo.js');
        await runDemo({
          dir: demoDir(opts.dir, io.cwd, writable),
          dashboardPort: opts.dashboardPort,
          exitWhenDone: opts.exit === true,
          out: (line) => io.stdout.write(`${line}\n`),
        });
      });
  },
};

/** --dir as given; else faspex-ingest-demo in the working folder, or in the temp folder when that one is read-only. */
export function demoDir(given: string | undefined, cwd: string, isWritable: (dir: string) => boolean, tmp = tmpdir()): string {
  if (given !== undefined) return resolve(cwd, given);
  return join(isWritable(cwd) ? cwd : tmp, 'faspex-ingest-demo');
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port from 0 to 65535');
  return n;
}
