import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { IngestError } from '../errors.js';
import { maskText } from '../log/secrets.js';
import { EXIT, UsageError, type CliIo } from './command.js';
import { COMMANDS } from './commands/index.js';

export async function main(argv: string[], io: CliIo): Promise<number> {
  const program = new Command('faspex-ingest')
    .description('Turns IBM Aspera Faspex notification emails into finished downloads.')
    .helpOption('-h, --help', 'show help')
    .addOption(new Option('--log-format <format>', 'log lines: human at a terminal, JSON otherwise (auto), or always json / human; overrides LOG_FORMAT').choices(['auto', 'json', 'human']))
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  // read by the configuration like the variable, so every command and role honours it alike
  program.hook('preAction', () => {
    const { logFormat } = program.opts<{ logFormat?: string }>();
    if (logFormat !== undefined) io.env.LOG_FORMAT = logFormat;
  });
  for (const command of COMMANDS) command.register(program, io);
  for (const sub of program.commands) sub.exitOverride();

  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return EXIT.ok;
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.stderr.write(`faspex-ingest: ${oneLine(err)}\n`);
    if (err instanceof UsageError || err instanceof ConfigError) return EXIT.usage;
    if (err instanceof IngestError && err.code === 'CONFIG') return EXIT.usage;
    if (err instanceof IngestError && err.code === 'CANCELLED') return EXIT.interrupted;
    return EXIT.failed;
  }
}

function oneLine(err: unknown): string {
  if (err instanceof ConfigError) return maskText(err.message.replace(/\n\s*/g, ' '));
  const message = err instanceof Error ? err.message : String(err);
  return maskText(message);
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
