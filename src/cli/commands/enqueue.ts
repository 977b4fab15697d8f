import { environmentWithDotenv, loadConfig } from '../../config/config.js';
import { permanent } from '../../errors.js';
import { isLinkAllowed } from '../../faspex/allowlist.js';
import { maskText } from '../../log/secrets.js';
import type { CliCommand } from '../command.js';

export const enqueueCommand: CliCommand = {
  register(program, io) {
    program
      .command('enqueue <link>')
      .description('queue one link as if it had arrived by mail')
      .helpOption('-h, --help', 'show help')
      .addHelpText(
        'after',
        '\nThe link must be a Faspex package link to a host in FASPEX_ALLOWED_HOSTS. A package that is\nalready queued (or finished within KEEP_COMPLETED_DAYS) is not queued again.\n\nExample:\n  faspex-ingest enqueue "https://faspex.example.com/aspera/faspex/external_deliveries/4822?passcode=..."',
      )
      .action(async (raw: string) => {
        // loaded on use: --help and the offline commands must not pay for them
        const [{ withQueues }, { downloadJobOptions, enqueueDownloads }, { parsePackageLink }] = await Promise.all([import('../queue-session.js'), import('../../queue/producer.js'), import('../../faspex/link.js')]);
        const config = loadConfig(environmentWithDotenv(io.env, io.cwd), 'enqueue', io.cwd);
        const link = parsePackageLink(raw);
        if (!isLinkAllowed(link, config.faspex.allowedHosts)) {
          throw permanent('HOST_NOT_ALLOWED', `${link.server} is not in FASPEX_ALLOWED_HOSTS; the link was not queued`);
        }
        const [result] = await withQueues(config, (s) =>
          enqueueDownloads(s.downloads, [{ link, source: { type: 'cli' } }], downloadJobOptions(config.workers)),
        );
        io.stdout.write(`${result!.added ? 'queued' : 'already queued'} ${result!.jobId} (${link.kind}, ${maskText(link.url)})\n`);
      });
  },
};
