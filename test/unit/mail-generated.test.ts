/**
 * Generated notification mails (test/support/generated-mail.ts): the extractor returns exactly
 * the links put in, no more, no fewer, byte for byte. A bounded number of cases here (about a
 * second); `npm run test:generated -- --runs 10000` runs many more. A failure prints its seed;
 * FC_SEED=<seed> FC_PATH=<path> npx vitest run test/unit/mail-generated.test.ts replays it.
 */
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { checkGeneratedMail, checkProperty } from '../support/generated-property.js';
import { mailSpecArb, renderMail } from '../support/generated-mail.js';

export const NPM_TEST_RUNS = 200;

describe('generated mail', () => {
  it(`returns exactly the links put in (${NPM_TEST_RUNS} mails)`, async () => {
    const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
    const { runs } = await checkGeneratedMail({ runs: Number(process.env.FC_RUNS ?? NPM_TEST_RUNS), seed, path: process.env.FC_PATH });
    expect(runs).toBeGreaterThan(0);
  });

  it('builds what it claims: every charset, encoding, body, place and wrapper comes up', () => {
    const seen = new Set<string>();
    for (const spec of fc.sample(mailSpecArb, { numRuns: 400, seed: 42 })) {
      seen.add(`charset ${spec.charset}`).add(`encoding ${spec.encoding}`).add(`body ${spec.body}`);
      for (const c of spec.copies) {
        seen.add(`place ${c.place}`).add(`wrappers ${c.wrappers.length}`);
        for (const w of c.wrappers) seen.add(`wrapper ${w}`);
      }
      const raw = renderMail(spec).toString('latin1');
      if (/Content-Type: message\/rfc822/.test(raw)) seen.add('attached');
    }
    for (const want of ['charset utf-8', 'charset iso-8859-1', 'charset shift_jis', 'charset windows-1252', 'encoding quoted-printable', 'encoding base64', 'encoding 8bit', 'body text', 'body html', 'body both', 'place wrapped', 'place quoted', 'place quoted2', 'place forward', 'place angle', 'place html', 'wrappers 2', 'attached', 'wrapper Proofpoint v3', 'wrapper Google, verbatim', 'wrapper Safe Links', 'wrapper AWS SES', 'wrapper Google, as Google writes it', 'wrapper Sophos, base64 raw', 'wrapper AWS SES, as SES writes it']) {
      expect(seen, want).toContain(want);
    }
  });

  it('a failure names the seed and path that replay it, and replaying them fails the same way', async () => {
    // the generator's shift_jis really is Shift_JIS (not UTF-8 under another name)
    expect(iconv.encode('」', 'shift_jis')).toEqual(Buffer.from([0x81, 0x76]));
    const noShiftJis = async (spec: { charset: string }) => {
      if (spec.charset === 'shift_jis') throw new Error('a shift_jis mail');
    };
    const first = await checkProperty(mailSpecArb, noShiftJis, { runs: 200, seed: 7 }).catch((e: Error) => e);
    expect(first).toBeInstanceOf(Error);
    const message = (first as Error).message;
    expect(message).toMatch(/seed 7\nreplay: FC_SEED=7 FC_PATH=\d+(:\d+)* /);
    expect(message).toContain('a shift_jis mail');
    const path = /FC_PATH=(\S+)/.exec(message)![1]!;
    await expect(checkProperty(mailSpecArb, noShiftJis, { runs: 200, seed: 7, path })).rejects.toThrow(/after 1 cases/);
  });
});
