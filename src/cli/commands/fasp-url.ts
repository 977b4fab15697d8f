/**
 * `fasp-url URL`: offline, shows what a Faspex 4 FASP URL would download and how, without
 * contacting any server. For checking a link from an email, or running ascp by hand.
 */
import { environmentWithDotenv, loadConfig } from '../../config/config.js';
import { parseFaspUrl } from '../../fasp/fasp-url.js';
import type { CliCommand, CliIo } from '../command.js';
import { checkFormat, renderTransfer, withTransferOutputOptions, type TransferOutputOptions } from '../transfer-output.js';

const EXAMPLE = "'faspe://faspex@fx.example.com:33001/pkg.aspera-package/PKG%20-%20report?token=...&port=33001&policy=fair&targetrate=100000&enc=aes128'";

export const faspUrlCommand: CliCommand = {
  register(program, io) {
    withTransferOutputOptions(
      program
        .command('fasp-url')
        .description('offline: convert a faspe:// or fasp:// URL into a transfer spec or an ascp command')
        .argument('<url>', 'the FASP URL (quote it: it contains & and ?)'),
    )
      .helpOption('-h, --help', 'show help')
      .addHelpText(
        'after',
        [
          '',
          'Formats:',
          '  transfer-spec  one JSON object with the standard transferSpec field names',
          '  ascp           {"args": [...], "env": {...}}: ascp argv and its extra environment',
          '  shell          a copy-pasteable, quoted `export ASPERA_SCP_TOKEN=... ; ascp ...` line',
          '  xferparams     the same settings as FASPManager XferParams (JSON)',
          '',
          'The token and cookie go to ASPERA_SCP_TOKEN / ASPERA_SCP_COOKIE, never to argv.',
          'With a token, ASCP_SSH_KEY (if set) is passed as ascp -i.',
          '',
          'Example:',
          `  faspex-ingest fasp-url --format shell --to /srv/downloads ${EXAMPLE}`,
        ].join('\n'),
      )
      .action((url: string, options: TransferOutputOptions) => faspUrl(url, options, io));
  },
};

/** The command's work, also run by the one-shot path (one-shot.ts) without commander. */
export function faspUrl(url: string, options: TransferOutputOptions, io: CliIo): void {
  checkFormat(options);
  const config = loadConfig(environmentWithDotenv(io.env, io.cwd), 'offline', io.cwd);
  io.stdout.write(`${renderTransfer(parseFaspUrl(url), options, config, io.cwd)}\n`);
}
