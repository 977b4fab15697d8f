/**
 * The whole CLI as commander sees it: the program, its global option and every command. main.ts
 * runs it; help-snapshot.ts records its --help texts at build time for the one-shot path.
 */
import { Command, Option } from 'commander';
import type { CliIo } from './command.js';
import { COMMANDS } from './commands/index.js';

export function buildProgram(io: CliIo): Command {
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
  return program;
}
