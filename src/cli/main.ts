import { CommanderError } from 'commander';
import { EXIT, type CliIo } from './command.js';
import { exitStatusAfterSuccess, reportFailure } from './failure.js';
import { buildProgram } from './program.js';

export async function main(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitStatusAfterSuccess();
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return EXIT.ok;
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportFailure(err, io);
  }
}

const isEntry = process.argv[1] !== undefined && /faspex-ingest$|main\.ts$/.test(process.argv[1]);
if (isEntry) {
  const code = await main(process.argv.slice(2), {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  });
  process.exitCode = code;
}
