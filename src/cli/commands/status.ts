import { InvalidArgumentError } from 'commander';
import { loadConfig, environmentWithDotenv } from '../../config/config.js';
import type { JobEntry, QueueCounts } from '../../queue/job-report.js';
import type { CliCommand } from '../command.js';

export const statusCommand: CliCommand = {
  register(program, io) {
    program
      .command('status')
      .description('queue counts and the latest jobs with their state and reason')
      .option('--json', 'one JSON object: {"queues": {...}, "jobs": [...]}')
      .option('-n, --limit <n>', 'how many recent jobs to show', parseLimit, 20)
      .helpOption('-h, --help', 'show help')
      .addHelpText('after', '\nReads the queues in REDIS_URL, or those of a `faspex-ingest run` on this machine.\nLinks are shown with their passcode masked.')
      .action(async (opts: { json?: boolean; limit: number }) => {
        // loaded on use: --help and the offline commands must not pay for them
        const [{ withQueues }, { queueCounts, recentJobs }] = await Promise.all([import('../queue-session.js'), import('../../queue/job-report.js')]);
        const config = loadConfig(environmentWithDotenv(io.env, io.cwd), 'status', io.cwd);
        const report = await withQueues(config, async (s) => ({
          queues: { downloads: await queueCounts(s.downloads), notifications: await queueCounts(s.notifications), handoffs: await queueCounts(s.handoffs) },
          jobs: await recentJobs(s.downloads, opts.limit),
        }));
        io.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : renderStatus(report.queues, report.jobs));
      });
  },
};

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected a whole number from 1 to 1000');
  return n;
}

export function renderStatus(queues: Record<string, QueueCounts>, jobs: JobEntry[]): string {
  const lines = Object.entries(queues).map(
    ([name, c]) => `${name}: ${c.waiting} waiting, ${c.active} active, ${c.delayed} delayed, ${c.completed} completed, ${c.failed} failed`,
  );
  if (jobs.length === 0) return `${lines.join('\n')}\n\nno jobs yet\n`;
  lines.push('');
  for (const j of jobs) {
    const progress = j.progress.bytes !== null ? ` ${formatBytes(j.progress.bytes)}${j.progress.total ? `/${formatBytes(j.progress.total)}` : ''}` : '';
    lines.push(`${j.state.padEnd(9)} ${j.id}  "${j.name}"${progress}${j.attempts ? `  attempts ${j.attempts}` : ''}`);
    if (j.folder) lines.push(`          → ${j.folder}`);
    if (j.waitingFor) lines.push(`          ${j.waitingFor}`);
    if (j.reason) lines.push(`          ${j.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
