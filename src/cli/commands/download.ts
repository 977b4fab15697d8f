/**
 * `download LINK [--to DIR]`: one package, now, without Redis. Resolves the link, runs ascp with
 * resume, retries like a worker would (DOWNLOAD_ATTEMPTS, RETRY_*_SECONDS, a fresh token each
 * time), and shows progress on stderr. stdout gets only the package folder, for scripts.
 * Exit status: 0 done (or already complete), 1 failed (one line why), 130 interrupted; Ctrl-C
 * stops ascp cleanly and keeps partial files for the next run.
 */
import { resolve as resolvePath } from 'node:path';
import type { DestinationStream } from 'pino';
import { formatBytes } from '../../ascp/units.js';
import { environmentWithDotenv, loadConfig } from '../../config/config.js';
import { maskText } from '../../log/secrets.js';
import type { CliCommand } from '../command.js';

interface Options {
  to?: string;
}

export const downloadCommand: CliCommand = {
  register(program, io) {
    program
      .command('download')
      .description('one package, now, without Redis: resolve, token, ascp, progress')
      .argument('<link>', 'a Faspex package link (quote it: it contains ? and &)')
      .option('--to <dir>', 'download folder (default: DOWNLOAD_DIR); the package gets its own folder inside')
      .helpOption('-h, --help', 'show help')
      .addHelpText(
        'after',
        [
          '',
          'The package lands in DIR/<server>_<package id>_<title>/ with a faspex-package.json written',
          'last; a package whose manifest exists is not downloaded again. A failed or interrupted',
          'download resumes where it stopped. Progress goes to stderr, the folder to stdout.',
          '',
          'Needs ascp (ASCP_PATH, PATH or an IBM install folder) and its token key (ASCP_SSH_KEY or',
          'beside ascp), and the link\'s server in FASPEX_ALLOWED_HOSTS.',
          '',
          'Exit status: 0 done, 1 failed, 130 interrupted (Ctrl-C).',
        ].join('\n'),
      )
      .action(async (raw: string, options: Options) => {
        // loaded on use: --help and the offline commands must not pay for them
        const [{ downloadWithRetries }, { locateAscp }, { createReporter }, { createResolver }, { chooseLogFormat, createLogger }, { parsePackageLink }] = await Promise.all([
          import('../../ascp/download-package.js'),
          import('../../ascp/locate.js'),
          import('../../ascp/terminal-progress.js'),
          import('../../faspex/resolver.js'),
          import('../../log/logger.js'),
          import('../../faspex/link.js'),
        ]);
        const config = loadConfig(environmentWithDotenv(io.env, io.cwd), 'download', io.cwd);
        if (options.to !== undefined) config.downloads.dir = resolvePath(io.cwd, options.to);
        const link = parsePackageLink(raw);
        // Log lines stay at warn unless LOG_LEVEL asks: the progress lines already tell the story.
        const logger = createLogger({ level: io.env.LOG_LEVEL ? config.logLevel : 'warn', destination: io.stderr as unknown as DestinationStream, format: chooseLogFormat(config.logFormat, io.stderr.isTTY === true) });
        const ascp = await locateAscp(config.downloads, io.env);
        const resolver = createResolver(config.faspex, logger);
        const reporter = createReporter(io.stderr);
        const controller = new AbortController();
        const interrupt = () => {
          reporter.line('interrupted: stopping ascp (partial files are kept)');
          controller.abort();
        };
        process.on('SIGINT', interrupt);
        process.on('SIGTERM', interrupt);
        try {
          const result = await downloadWithRetries(
            link,
            { config, logger, resolver, ascp, signal: controller.signal, onProgress: (p) => reporter.progress(p), onLog: (line) => reporter.line(maskText(line)) },
            { attempts: config.workers.attempts, baseMs: config.workers.retryBaseMs, maxMs: config.workers.retryMaxMs },
          );
          reporter.done();
          io.stderr.write(
            result.alreadyComplete
              ? `already complete: ${result.folder}\n`
              : `done: ${result.manifest.files.length} file(s), ${formatBytes(result.manifest.totalBytes)} in ${result.folder}\n`,
          );
          io.stdout.write(`${result.folder}\n`);
        } finally {
          reporter.done();
          process.off('SIGINT', interrupt);
          process.off('SIGTERM', interrupt);
          await resolver.close();
        }
      });
  },
};
