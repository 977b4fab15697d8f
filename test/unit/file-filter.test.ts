import { describe, expect, it } from 'vitest';
import { effectiveFilter, isWanted, parseGlobList } from '../../src/verify/file-filter.js';
import { listedPath, planFiles } from '../../src/verify/file-plan.js';

describe('isWanted: globs on the path inside the package', () => {
  it.each([
    // path, include, exclude, wanted
    ['reel1.mov', ['*.mov', '*.wav'], [], true],
    ['audio/mix.wav', ['*.mov', '*.wav'], [], true],
    ['docs/notes.pdf', ['*.mov', '*.wav'], [], false],
    ['docs/notes.pdf', [], [], true],
    ['a/b/c.mov', ['a/*.mov'], [], false],
    ['a/c.mov', ['a/*.mov'], [], true],
    ['a/b/c.mov', ['a/**/*.mov'], [], true],
    ['a/c.mov', ['a/**/*.mov'], [], true],
    ['proxy/low.mov', ['*.mov'], ['proxy/**'], false],
    ['x.mov', ['*.mov'], ['proxy/**'], true],
    ['file1.txt', ['file?.txt'], [], true],
    ['file10.txt', ['file?.txt'], [], false],
    ['.DS_Store', [], ['.DS_Store'], false],
    ['sub/.DS_Store', [], ['.DS_Store'], false],
    ['a+b (1).mov', ['a+b (1).mov'], [], true],
    ['aXb.mov', ['a.b.mov'], [], false],
    ['/leading/slash.mov', ['leading/*.mov'], [], true],
  ])('%s include %j exclude %j → %s', (path, include, exclude, wanted) => {
    expect(isWanted(path, { include, exclude })).toBe(wanted);
  });

  it('parses comma-separated lists and refuses what cannot be meant', () => {
    expect(parseGlobList(' *.mov, ,*.wav ')).toEqual(['*.mov', '*.wav']);
    expect(() => parseGlobList('/abs/*.mov')).toThrow(/never starts with/);
    expect(() => parseGlobList('../*.mov')).toThrow(/\.\./);
  });

  it('an inbox filter replaces the global one field by field', () => {
    expect(effectiveFilter({ include: ['*.mov'], exclude: ['x'] }, { include: ['*.wav'] })).toEqual({ include: ['*.wav'], exclude: ['x'] });
    expect(effectiveFilter({ include: ['*.mov'], exclude: [] }, undefined)).toEqual({ include: ['*.mov'], exclude: [] });
  });
});

describe('planFiles', () => {
  const listed = [{ path: 'a.mov', size: 10 }, { path: 'docs/n.pdf', size: 5 }, { path: 'b.wav.aspera-env', size: 70 }];
  const sources = ['/u.aspera-package/PKG - T'];
  it('expects every listed file under the source folder, envelopes decrypted without a size', () => {
    expect(planFiles({ listed, sources, filter: { include: [], exclude: [] }, decrypt: true })).toEqual({
      expected: [{ path: 'PKG - T/a.mov', size: 10 }, { path: 'PKG - T/docs/n.pdf', size: 5 }, { path: 'PKG - T/b.wav' }],
      skipped: [],
    });
  });
  it('kept encrypted: as listed', () => {
    expect(planFiles({ listed, sources, filter: { include: [], exclude: [] }, decrypt: false }).expected?.[2]).toEqual({ path: 'PKG - T/b.wav.aspera-env', size: 70 });
  });
  it('a filter: pairs for the wanted, the rest skipped', () => {
    const plan = planFiles({ listed, sources, filter: { include: ['*.mov'], exclude: [] }, decrypt: false });
    expect(plan.pairs).toEqual([{ source: '/u.aspera-package/PKG - T/a.mov', destination: 'PKG - T/a.mov' }]);
    expect(plan.skipped).toEqual([{ path: 'docs/n.pdf', size: 5 }, { path: 'b.wav.aspera-env', size: 70 }]);
    expect(plan.expected).toEqual([{ path: 'PKG - T/a.mov', size: 10 }]);
  });
  it('no list: nothing to verify against; a filter then refuses', () => {
    expect(planFiles({ listed: undefined, sources, filter: { include: [], exclude: [] }, decrypt: false })).toEqual({ expected: undefined, skipped: [] });
    expect(() => planFiles({ listed: undefined, sources, filter: { include: ['*.mov'], exclude: [] }, decrypt: false })).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED' }));
  });
  it.each(['../x', 'a/../../x', 'a//b', 'a/\nb', '', '/'])('refuses the listed path %j', (p) => {
    expect(() => listedPath(p)).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }));
  });
});
