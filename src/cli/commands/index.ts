import type { CliCommand } from '../command.js';
import { runCommand } from './run.js';
import { listenCommand } from './listen.js';
import { workCommand } from './work.js';
import { dashboardCommand } from './dashboard.js';
import { downloadCommand } from './download.js';
import { resolveCommand } from './resolve.js';
import { faspUrlCommand } from './fasp-url.js';
import { extractCommand } from './extract.js';
import { enqueueCommand } from './enqueue.js';
import { statusCommand } from './status.js';
import { boxesCommand } from './boxes.js';
import { demoCommand } from './demo.js';
import { verifyCommand } from './verify.js';

/** In the order --help lists them. */
export const COMMANDS: CliCommand[] = [
  runCommand,
  listenCommand,
  workCommand,
  dashboardCommand,
  downloadCommand,
  resolveCommand,
  faspUrlCommand,
  extractCommand,
  enqueueCommand,
  statusCommand,
  boxesCommand,
  verifyCommand,
  demoCommand,
];
