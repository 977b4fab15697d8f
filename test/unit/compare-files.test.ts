import { describe, expect, it } from 'vitest';
import { compareFiles, describeDifferences, isClean, summariseDifferences } from '../../src/verify/compare-files.js';

const H = (c: string) => c.repeat(64);

describe('compareFiles', () => {
  it.each([
    ['identical', [{ path: 'a', size: 1, sha256: H('a') }], [{ path: 'a', size: 1, sha256: H('a') }], []],
    ['missing', [{ path: 'a', size: 1 }], [], ['missing: a']],
    ['extra', [], [{ path: 'b', size: 1 }], ['extra: b']],
    ['size', [{ path: 'a', size: 2 }], [{ path: 'a', size: 1 }], ['size differs: a (expected 2 bytes, found 1)']],
    ['sha256', [{ path: 'a', size: 1, sha256: H('a') }], [{ path: 'a', size: 1, sha256: H('b') }], ['SHA-256 differs: a']],
    ['hex case does not matter', [{ path: 'a', size: 1, sha256: H('A') }], [{ path: 'a', size: 1, sha256: H('a') }], []],
    ['no size expected: presence only', [{ path: 'a' }], [{ path: 'a', size: 7 }], []],
    ['no sha256 expected: size only', [{ path: 'a', size: 1 }], [{ path: 'a', size: 1, sha256: H('c') }], []],
    ['a wrong size is not also a wrong hash', [{ path: 'a', size: 2, sha256: H('a') }], [{ path: 'a', size: 1, sha256: H('b') }], ['size differs: a (expected 2 bytes, found 1)']],
    ['all at once, sorted', [{ path: 'z', size: 1 }, { path: 'm', size: 1 }], [{ path: 'y', size: 1 }, { path: 'b', size: 1 }],
      ['missing: m', 'missing: z', 'extra: b', 'extra: y']],
  ])('%s', (_name, expected, found, lines) => {
    const d = compareFiles(expected, found);
    expect(describeDifferences(d)).toEqual(lines);
    expect(isClean(d)).toBe(lines.length === 0);
  });

  it('a summary stays short however many files differ', () => {
    const d = compareFiles(Array.from({ length: 1000 }, (_, i) => ({ path: `f${i}`, size: 1 })), []);
    const s = summariseDifferences(d);
    expect(s).toMatch(/and 990 more$/);
    expect(s.length).toBeLessThan(300);
  });
});
