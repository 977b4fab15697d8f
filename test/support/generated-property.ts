/**
 * The generated-mail property, shared by the bounded run in `npm test`
 * (test/unit/mail-generated.test.ts) and the large one (`npm run test:generated -- --runs 10000`).
 * A failure throws with the seed and path that replay it (FC_SEED, FC_PATH or --seed, --path)
 * and the mail that failed.
 */
import fc from 'fast-check';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { decideMail } from '../../src/mail/decide.js';
import { expectedLinks, GENERATED_ALLOWED, mailSpecArb, renderMail } from './generated-mail.js';

const ALLOW = parseAllowlist(GENERATED_ALLOWED);

export interface RunOptions {
  runs: number;
  seed?: number | undefined;
  path?: string | undefined;
}

export async function checkGeneratedMail(options: RunOptions): Promise<{ runs: number; seed: number; ms: number }> {
  return checkProperty(mailSpecArb, async (spec) => {
    const raw = renderMail(spec);
    const decision = await decideMail(raw, { allowlist: ALLOW });
    const got = decision.links.map((l) => l.url).sort();
    const want = expectedLinks(spec);
    if (decision.kind !== 'links' || JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(`decided ${decision.kind}${decision.reason ? ` (${decision.reason})` : ''}\n  want ${want.join('\n       ')}\n  got  ${got.join('\n       ')}\n--- the mail ---\n${raw.toString('latin1')}`);
    }
  }, options);
}

/** Runs `check` on `runs` generated values; a failure throws naming the seed and path that replay it. */
export async function checkProperty<T>(arb: fc.Arbitrary<T>, check: (value: T) => Promise<void>, options: RunOptions): Promise<{ runs: number; seed: number; ms: number }> {
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff));
  const started = performance.now();
  const result = await fc.check(fc.asyncProperty(arb, check), { numRuns: options.runs, seed, ...(options.path ? { path: options.path } : {}), endOnFailure: true });
  const ms = performance.now() - started;
  if (result.failed) {
    const path = result.counterexamplePath ?? '';
    const replay = `replay: FC_SEED=${result.seed} FC_PATH=${path} npx vitest run test/unit/mail-generated.test.ts (or npm run test:generated -- --seed ${result.seed} --path ${path})`;
    const why = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
    throw new Error(`generated mail: the property failed after ${result.numRuns} cases, seed ${result.seed}\n${replay}\n${why}`);
  }
  return { runs: result.numRuns, seed, ms };
}
