/** What `fasp-url` and `resolve` share: the output options and how a transfer is printed. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { formatTransfer, isTransferFormat, TRANSFER_FORMATS } from '../fasp/formats.js';
import type { TransferSpec } from '../fasp/transfer-spec.js';
import { UsageError } from './command.js';

export interface TransferOutputOptions {
  format: string;
  to?: string;
  showSecrets?: boolean;
}

export function withTransferOutputOptions(command: Command): Command {
  return command
    .option('-f, --format <format>', `output format: ${TRANSFER_FORMATS.join(', ')}`, 'transfer-spec')
    .option('--to <dir>', 'download folder the command targets (default: DOWNLOAD_DIR)')
    .option('--show-secrets', 'print the token and cookie instead of ***');
}

/** Checked before any work, so a typo never costs a request to the server. */
export function checkFormat(options: TransferOutputOptions): void {
  if (!isTransferFormat(options.format)) throw new UsageError(`unknown format "${options.format}"; use one of: ${TRANSFER_FORMATS.join(', ')}`);
}

export function renderTransfer(spec: TransferSpec, options: TransferOutputOptions, config: Config, cwd: string): string {
  checkFormat(options);
  return formatTransfer(spec, options.format as (typeof TRANSFER_FORMATS)[number], {
    destination: options.to === undefined ? config.downloads.dir : resolve(cwd, options.to),
    showSecrets: options.showSecrets === true,
    sshKeyPath: config.downloads.ascpSshKey,
    transport: config.downloads.transport,
    wssCaFile: config.faspex.caFile,
  });
}
