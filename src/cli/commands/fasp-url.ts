/**
 * `fasp-url URL`: offline, shows what a Faspex 4 FASP URL would download and how, without
 * contacting any server. For checking a link from an email, or running ascp by hand.
 */
import { resolve } from 'node:path';
import { environmentWithDotenv, loadConfig } from '../../config/config.js';
import { parseFaspUrl } from '../../fasp/fasp-url.js';
import { formatTransfer, isTransferFormat, TRANSFER_FORMATS } from '../../fasp/formats.js';
import { UsageError, type CliCommand } from '../command.js';

interface Options {
  format: string;
  to?: string;
  showSecrets?: boolean;
}

const EXAMPLE = "'faspe://faspex@fx.example.com:33001/pkg.aspera-package/PKG%20-%20report?token=...&port=33001&policy=fair&targetrate=100000&enc=aes128'";

export const faspUrlCommand: CliCommand = {
  register(program, io) {
    program
      .command('fasp-url')
      .description('offline: convert a faspe:// or fasp:// URL into a transfer spec or an ascp command')
      .argument('<url>', 'the FASP URL (quote it: it contains & and ?)')
      .option('-f, --format <format>', `output format: ${TRANSFER_FORMATS.join(', ')}`, 'transfer-spec')
      .option('--to <dir>', 'download folder the command targets (default: DOWNLOAD_DIR)')
      .option('--show-secrets', 'print the token and cookie instead of ***')
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
      .action((url: string, options: Options) => {
        if (!isTransferFormat(options.format)) {
          throw new UsageError(`unknown format "${options.format}"; use one of: ${TRANSFER_FORMATS.join(', ')}`);
        }
        const config = loadConfig(environmentWithDotenv(io.env, io.cwd), 'offline', io.cwd);
        const spec = parseFaspUrl(url);
        const text = formatTransfer(spec, options.format, {
          destination: options.to === undefined ? config.downloads.dir : resolve(io.cwd, options.to),
          showSecrets: options.showSecrets === true,
          sshKeyPath: config.downloads.ascpSshKey,
        });
        io.stdout.write(`${text}\n`);
      });
  },
};
