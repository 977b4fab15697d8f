/**
 * `extract [FILE.eml | -]`: the package links the listener would queue for one message, offline.
 * For checking a notification (or a gateway-mangled forward of one) before relying on it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/config.js';
import { maskText } from '../../log/secrets.js';
import type { CliCommand, CliIo } from '../command.js';

export interface ExtractOptions {
  showSecrets?: boolean;
}

export const extractCommand: CliCommand = {
  register(program, io) {
    program
      .command('extract')
      .description('print the Faspex package links found in one message')
      .argument('[file]', 'the message (.eml); - or nothing reads standard input')
      .option('--show-secrets', 'print passcodes and Faspex 5 contexts instead of ***')
      .helpOption('-h, --help', 'show help')
      .addHelpText(
        'after',
        [
          '',
          'Prints one JSON object per line, {"url": "...", "kind": "..."}, one per package, in order',
          'of appearance; nothing when the message holds no package link. Problems (a Mimecast-wrapped',
          'link, a host outside FASPEX_ALLOWED_HOSTS when that is set, a link cut short with no whole',
          'copy in the message: "link damaged") go to standard error.',
        ].join('\n'),
      )
      .action((file: string | undefined, options: ExtractOptions) => extract(file, options, io));
  },
};

/** The command's work, also run by the one-shot path (one-shot.ts) without commander. */
export async function extract(file: string | undefined, options: ExtractOptions, io: CliIo): Promise<void> {
  // loaded on use: --help and the offline commands must not pay for them. Read as the listener
  // reads a mail: mailparser loads only for a structure the direct reader leaves to it.
  const [{ readMail }, { extractPackageLinks }] = await Promise.all([import('../../mail/decide.js'), import('../../mail/extract/index.js')]);
  const config = loadConfig(io.env, 'offline', io.cwd);
  // one file, read whole either way: node:fs is loaded already, node:fs/promises would load for it
  const source = file === undefined || file === '-' ? await readAll(io.stdin) : readFileSync(resolve(io.cwd, file));
  const content = await readMail(source);
  const allowlist = io.env.FASPEX_ALLOWED_HOSTS ? config.faspex.allowedHosts : undefined;
  const { links, warnings, damaged } = await extractPackageLinks(content, allowlist ? { allowlist } : {});
  for (const warning of warnings) io.stderr.write(`warning: ${maskText(warning)}\n`);
  // the service records such a mail as "link damaged" and queues nothing
  if (links.length === 0) for (const reason of damaged) io.stderr.write(`link damaged: ${maskText(reason)}\n`);
  for (const link of links) {
    const url = options.showSecrets ? link.url : maskText(link.url);
    io.stdout.write(`${JSON.stringify({ url, kind: link.kind })}\n`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
