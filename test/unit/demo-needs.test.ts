import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoDir } from '../../src/cli/commands/demo.js';
import { findOnPath, missingTools, missingToolsMessage, REQUIRED_TOOLS } from '../../src/demo/demo-needs.js';
import { tempDir } from '../support/temp.js';

describe('what demo needs', () => {
  it.each([
    { present: ['redis-server', 'openssl'], missing: [] },
    { present: ['redis-server'], missing: ['openssl'] },
    { present: ['openssl'], missing: ['redis-server'] },
    { present: [], missing: ['redis-server', 'openssl'] },
  ])('with $present on PATH, misses $missing', ({ present, missing }) => {
    expect(missingTools((c) => present.includes(c)).map((t) => t.command)).toEqual(missing);
  });

  it('names every missing tool, what it is for, and one apt-get line for all of them', () => {
    const message = missingToolsMessage(REQUIRED_TOOLS);
    expect(message).toContain('demo needs redis-server and openssl, not found on PATH');
    expect(message).toContain("openssl: the stand-in Faspex server's HTTPS certificate");
    expect(message.split('\n').at(-1)).toBe('Install: apt-get install -y redis-server openssl');
  });

  describe('findOnPath', () => {
    const dir = tempDir('demo-needs');
    afterAll(() => dir.remove());

    it('finds an executable in one of PATH\'s folders, not a plain file or a missing one', () => {
      const a = join(dir.path, 'a');
      const b = join(dir.path, 'b');
      mkdirSync(a);
      mkdirSync(b);
      writeFileSync(join(b, 'tool'), '#!/bin/sh\n');
      chmodSync(join(b, 'tool'), 0o755);
      writeFileSync(join(a, 'plain'), 'not executable');
      chmodSync(join(a, 'plain'), 0o644);
      const path = [a, '', b].join(':');
      expect(findOnPath('tool', path)).toBe(true);
      expect(findOnPath('plain', path)).toBe(false);
      expect(findOnPath('absent', path)).toBe(false);
    });
  });
});

describe('demo --dir default', () => {
  it.each([
    { given: undefined, cwdWritable: true, expected: '/home/me/faspex-ingest-demo' },
    { given: undefined, cwdWritable: false, expected: '/tmp/faspex-ingest-demo' },
    { given: 'x', cwdWritable: false, expected: '/home/me/x' },
    { given: '/data/demo', cwdWritable: true, expected: '/data/demo' },
  ])('given $given, cwd writable $cwdWritable: $expected', ({ given, cwdWritable, expected }) => {
    expect(demoDir(given, '/home/me', () => cwdWritable, '/tmp')).toBe(expected);
  });
});
