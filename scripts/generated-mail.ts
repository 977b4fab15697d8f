/**
 * The generated-mail property at scale: `npm run test:generated -- --runs 10000 [--seed N]
 * [--path P]`. Prints the cases run, the seed and the time; exits 1 with the seed and the mail
 * that failed.
 */
import { parseArgs } from 'node:util';
import { checkGeneratedMail } from '../test/support/generated-property.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string' }, path: { type: 'string' } } });
try {
  const { runs, seed, ms } = await checkGeneratedMail({ runs: Number(values.runs), seed: values.seed ? Number(values.seed) : undefined, path: values.path });
  console.log(`generated mail: ${runs} cases passed in ${(ms / 1000).toFixed(1)} s (${(ms / runs).toFixed(2)} ms per case), seed ${seed}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
