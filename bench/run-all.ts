/**
 * `npm run bench`: every benchmark, one after another (they would skew each other in
 * parallel on two cores), each as its own process with its own Redis, Dovecot and stand-ins.
 * Prints the machine and its load first, then every script's table, then all figures together.
 * Exit status: 0 when every benchmark ran (misses included), 1 when one of them broke.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { RESULT_MARK, type Figure } from './support/report.js';

const SCRIPTS = ['start-latency', 'backlog', 'extraction', 'one-shot', 'pipeline-overhead', 'crash-cost', 'takeover', 'packages-page', 'redis-failover'];
const only = process.argv.slice(2);
const chosen = only.length ? SCRIPTS.filter((s) => only.includes(s)) : SCRIPTS;

const version = (cmd: string, args: string[]) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0];
  } catch {
    return 'not found';
  }
};
const load = () => loadavg().map((l) => l.toFixed(2)).join(', ');

console.log(`node ${process.version}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); ${(totalmem() / 2 ** 30).toFixed(1)} GiB`);
console.log(`${version('redis-server', ['--version'])}; dovecot ${version('/usr/sbin/dovecot', ['--version'])}`);
console.log(`load average before: ${load()}`);

const results: Array<{ script: string; title: string; figures: Figure[] }> = [];
const broken: string[] = [];
for (const script of chosen) {
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, `${script}.ts`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith(RESULT_MARK)) results.push({ script, ...(JSON.parse(line.slice(RESULT_MARK.length)) as { title: string; figures: Figure[] }) });
        else console.log(line);
      }
    });
    child.once('exit', (c) => resolve(c ?? 1));
  });
  if (code !== 0) broken.push(script);
}

console.log(`\nload average after: ${load()}\n\n== all figures`);
for (const r of results) for (const f of r.figures) console.log(`${f.pass ? 'PASS' : 'MISS'}  ${r.script.padEnd(18)} ${f.figure}: ${f.measured} (target ${f.target}; baseline ${f.baseline}; ratio ${f.ratio})`);
if (broken.length) console.log(`\nBROKEN (the benchmark itself failed): ${broken.join(', ')}`);
process.exit(broken.length ? 1 : 0);
