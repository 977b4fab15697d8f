/**
 * How costly is extraction? The same mails, in the same process, alternately through
 * mailparser's simpleParser alone (with the options decide.ts used to parse with) and through
 * decideMail, the whole per-mail decision from the raw message: reading it (src/mail/mime/: its
 * text parts decoded directly, mailparser only for a structure the direct reader leaves to it),
 * link extraction, gateway unwrapping and the allowlist. Rates are per CPU second of this process.
 * The corpus is every fixture in test/fixtures/mail (forwards, gateways, Faspex 5, look-alikes,
 * TNEF...) plus generated Faspex 4 notifications.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { parseAllowlist } from '../src/faspex/allowlist.js';
import { decideMail } from '../src/mail/decide.js';
import { notificationFor } from './support/mail-load.js';
import { fmt, log, printTable, runBenchmark } from './support/report.js';

const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures', 'mail');
const ROUNDS = Number(process.env.BENCH_EXTRACTION_ROUNDS ?? 7);
const PASSES = 10;
const TARGET_RATIO = 1.0;

runBenchmark('extraction', async () => {
  const corpus: Buffer[] = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => readFileSync(join(FIXTURES, f)));
  const fixtures = corpus.length;
  for (let i = 0; i < 184; i++) corpus.push(Buffer.from(notificationFor('https://faspex.example.com/aspera/faspex', 1000 + i)));
  const allowlist = parseAllowlist('faspex.example.com, faspex5.example.com, xfer.faspex.example.com');
  let links = 0;

  const parseOnly = async () => {
    for (const raw of corpus) await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, keepCidLinks: true });
  };
  const decide = async () => {
    for (const raw of corpus) links += (await decideMail(raw, { allowlist })).links.length;
  };
  // CPU time of this process, not wall time: other suites share the two cores, and a wall
  // clock would charge their bursts to whichever side happened to be running.
  const timed = async (fn: () => Promise<void>) => {
    const t0 = process.cpuUsage();
    for (let p = 0; p < PASSES; p++) await fn();
    const used = process.cpuUsage(t0);
    return (corpus.length * PASSES) / ((used.user + used.system) / 1e6);
  };

  // warm-up: JIT and lazy module loads out of the measurement
  for (let w = 0; w < 3; w++) {
    await parseOnly();
    await decide();
  }
  const parserRates: number[] = [];
  const extractorRates: number[] = [];
  // alternating rounds, so a burst of load elsewhere on the machine hits both sides alike
  for (let r = 0; r < ROUNDS; r++) {
    parserRates.push(await timed(parseOnly));
    extractorRates.push(await timed(decide));
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const parser = median(parserRates);
  const extractor = median(extractorRates);
  log(`parser rounds: ${parserRates.map((r) => r.toFixed(0)).join(' ')}; extractor rounds: ${extractorRates.map((r) => r.toFixed(0)).join(' ')}`);
  printTable(`extraction: ${corpus.length} mails (${fixtures} fixtures + ${corpus.length - fixtures} notifications), median of ${ROUNDS} rounds, per CPU second`, [
    {
      figure: 'messages/s through the extractor',
      target: `≥ ${TARGET_RATIO} × simpleParser`,
      measured: `${extractor.toFixed(0)}/s`,
      baseline: `${parser.toFixed(0)}/s simpleParser`,
      ratio: fmt(extractor / parser),
      pass: extractor / parser >= TARGET_RATIO,
    },
  ], [`decideMail costs ${fmt(1e6 / extractor, 0)} µs of CPU a mail, simpleParser alone ${fmt(1e6 / parser, 0)} µs; ${links / (ROUNDS * PASSES + 3)} links found per pass`]);
});
