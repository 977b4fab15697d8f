/**
 * `resolve LINK`: asks the Faspex server about a package link exactly as a download would (XML,
 * issue-token when needed) and prints the resulting transfer, without transferring. For checking
 * a link, the allowlist, credentials and TLS settings, or running ascp by hand.
 */
import type { DestinationStream } from 'pino';
import { environmentWithDotenv, loadConfig } from '../../config/config.js';
import type { CliCommand } from '../command.js';
import { checkFormat, renderTransfer, withTransferOutputOptions, type TransferOutputOptions as Options } from '../transfer-output.js';

export const resolveCommand: CliCommand = {
  register(program, io) {
    withTransferOutputOptions(
      program
        .command('resolve')
        .description('print what download would transfer, without transferring')
        .argument('<link>', 'a Faspex package link (quote it: it contains ? and &)'),
    )
      .helpOption('-h, --help', 'show help')
      .addHelpText(
        'after',
        [
          '',
          'Contacts the Faspex server (which must be in FASPEX_ALLOWED_HOSTS) as a download would:',
          'it fetches the package description and, for links that need an account, asks for a',
          'transfer token with FASPEX_USERNAME / FASPEX_PASSWORD. Nothing is transferred.',
          '',
          'Formats: transfer-spec (JSON), ascp ({"args", "env"}), shell (export ...; ascp ...), xferparams.',
          'Secrets are printed as *** unless --show-secrets.',
          '',
          'Example:',
          '  faspex-ingest resolve --format shell "https://faspex.example.com/aspera/faspex/external_deliveries/4822?passcode=..."',
        ].join('\n'),
      )
      .action(async (raw: string, options: Options) => {
        // loaded on use: --help and the offline commands must not pay for them
        const [{ createResolver }, { chooseLogFormat, createLogger }, { parsePackageLink }] = await Promise.all([import('../../faspex/resolver.js'), import('../../log/logger.js'), import('../../faspex/link.js')]);
        checkFormat(options);
        const config = loadConfig(environmentWithDotenv(io.env, io.cwd), 'resolve', io.cwd);
        const link = parsePackageLink(raw);
        // Log lines (masked) go to stderr, so stdout carries only the transfer; warnings only,
        // unless LOG_LEVEL asks for more (the insecure-TLS warning must always show).
        const level = io.env.LOG_LEVEL ? config.logLevel : 'warn';
        const logger = createLogger({ level, destination: io.stderr as unknown as DestinationStream, format: chooseLogFormat(config.logFormat, io.stderr.isTTY === true) });
        const resolver = createResolver(config.faspex, logger);
        try {
          const resolved = await resolver.resolve(link);
          io.stdout.write(`${renderTransfer(resolved.transferSpec, options, config, io.cwd)}\n`);
        } finally {
          await resolver.close();
        }
      });
  },
};
