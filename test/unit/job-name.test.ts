import { describe, expect, it } from 'vitest';
import { displayJobName, packageName } from '../../src/queue/job-name.js';

const PASSCODE = 'c0ffee'.repeat(6);

describe('packageName', () => {
  const cases: [string, Parameters<typeof packageName>[0], string][] = [
    ['the title wins', { title: 'Q3 rushes', subject: 'Faspex package: Q3', packageId: '7' }, 'Q3 rushes'],
    ['the subject until the title is known', { subject: 'Faspex package: Q3 rushes', packageId: '7' }, 'Faspex package: Q3 rushes'],
    ['a blank title falls back', { title: '  ', subject: 'Trailer' }, 'Trailer'],
    ['neither: id and server', { packageId: '4822', server: 'fx.example.com' }, 'package 4822 on fx.example.com'],
    ['nothing at all', {}, 'package'],
    ['whitespace folded', { title: 'Lab\n\tresults   2026' }, 'Lab results 2026'],
    ['a passcode in a subject is masked', { subject: `Package https://fx.example.com/x?passcode=${PASSCODE}` }, 'Package https://fx.example.com/x?passcode=***'],
    ['capped at 120 characters', { title: 'x'.repeat(300) }, `${'x'.repeat(119)}…`],
  ];
  for (const [name, parts, expected] of cases) it(name, () => expect(packageName(parts)).toBe(expected));
});

describe('displayJobName (bull-board, status)', () => {
  const data = { packageId: '9', server: 'fx.example.com', source: { type: 'mail', subject: 'Faspex package: final mix' } };
  const cases: [string, Parameters<typeof displayJobName>[0], string][] = [
    ['done: the result title', { name: 'Faspex package: final mix', data, returnvalue: { title: 'Final mix', folder: 'f' } }, 'Final mix'],
    ['downloading: the progress title', { name: 'Faspex package: final mix', data, progress: { phase: 'transferring', bytes: 1, title: 'Final mix v2' } }, 'Final mix v2'],
    ['waiting: the job name (the subject)', { name: 'Faspex package: final mix', data, progress: 0 }, 'Faspex package: final mix'],
    ['an old generic name: from the data', { name: 'download', data }, 'Faspex package: final mix'],
    ['an old generic name and no subject', { name: 'download', data: { packageId: '9', server: 'fx.example.com', source: { type: 'cli' } } }, 'package 9 on fx.example.com'],
    ['a stored name with a passcode is masked', { name: `see https://fx.example.com/?passcode=${PASSCODE}`, data }, 'see https://fx.example.com/?passcode=***'],
  ];
  for (const [name, job, expected] of cases) it(name, () => expect(displayJobName(job)).toBe(expected));
});
