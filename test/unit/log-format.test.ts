import { describe, expect, it } from 'vitest';
import { permanent } from '../../src/errors.js';
import { chooseLogFormat, formatHumanLine } from '../../src/log/human-format.js';
import { createLogger } from '../../src/log/logger.js';
import { registerSecret } from '../../src/log/secrets.js';

describe('chooseLogFormat', () => {
  it.each([
    ['auto', true, 'human'],
    ['auto', false, 'json'],
    ['json', true, 'json'],
    ['json', false, 'json'],
    ['human', true, 'human'],
    ['human', false, 'human'],
  ] as const)('%s at a terminal=%s → %s', (setting, terminal, format) => {
    expect(chooseLogFormat(setting, terminal)).toBe(format);
  });
});

describe('formatHumanLine', () => {
  const base = { level: 'info', time: '2026-12-03T11:14:30.822Z', pid: 42, name: 'faspex-ingest' };
  it.each([
    ['a message alone', { ...base, msg: 'stopped' }, 'stopped\n'],
    ['fields after the message, bookkeeping left out', { ...base, msg: 'package resolved', server: 'h:1', title: 'Q3 report', ms: 247 }, 'package resolved (server=h:1, title="Q3 report", ms=247)\n'],
    ['warnings say so', { ...base, level: 'warn', msg: 'FASPEX_INSECURE_TLS=true' }, 'warning: FASPEX_INSECURE_TLS=true\n'],
    ['multi-line values fold to one line', { ...base, msg: 'ascp failed', diagnostics: '\nSession Stop  (Error: x)\n' }, 'ascp failed (diagnostics="Session Stop  (Error: x)")\n'],
    ['objects as compact JSON', { ...base, msg: 'm', counts: { a: 1 } }, 'm (counts={"a":1})\n'],
    [
      'an expected failure: code and message, no stack, no repeated code',
      { ...base, msg: 'download attempt failed', code: 'TRANSFER_FAILED', retry: 'never', packageId: '4', err: { type: 'IngestError', name: 'IngestError', code: 'TRANSFER_FAILED', retry: 'never', message: 'the transfer server refused the login', stack: 'IngestError: x\n    at runAscp (src/ascp/run-ascp.ts:170:13)' } },
      'download attempt failed: TRANSFER_FAILED: the transfer server refused the login (packageId=4)\n',
    ],
    [
      'a bug: its name, message and stack frames',
      { ...base, level: 'error', msg: 'job crashed', err: { type: 'TypeError', message: 'x is undefined', stack: 'TypeError: x is undefined\n    at f (src/a.ts:1:1)\n    at g (src/b.ts:2:2)' } },
      'error: job crashed: TypeError: x is undefined\n    at f (src/a.ts:1:1)\n    at g (src/b.ts:2:2)\n',
    ],
  ])('%s', (_what, record, expected) => {
    expect(formatHumanLine(record)).toBe(expected);
  });
});

describe('createLogger', () => {
  function capture(format?: 'json' | 'human') {
    const out: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void out.push(l) }, ...(format ? { format } : {}) });
    return { logger, out };
  }

  it('logs an IngestError as code and message without a stack, in JSON', () => {
    const { logger, out } = capture();
    logger.info({ err: permanent('TRANSFER_FAILED', 'the transfer server refused the login') }, 'download attempt failed');
    const record = JSON.parse(out[0]!) as { err: Record<string, unknown> };
    expect(record.err).toMatchObject({ type: 'IngestError', code: 'TRANSFER_FAILED', message: 'the transfer server refused the login' });
    expect(record.err).not.toHaveProperty('stack');
  });

  it('keeps the stack of any other error: that is a bug', () => {
    const { logger, out } = capture();
    logger.error({ err: new TypeError('x is undefined') }, 'crashed');
    expect((JSON.parse(out[0]!) as { err: { stack: string } }).err.stack).toMatch(/^TypeError: x is undefined\n\s+at /);
  });

  it('human lines are masked like JSON ones', () => {
    const secret = 'hunter2-hunter2-hunter2';
    registerSecret(secret);
    const { logger, out } = capture('human');
    logger.warn({ link: `https://f.example/x?passcode=${secret}` }, `login with ${secret} refused`);
    expect(out.join('')).toBe('warning: login with *** refused (link="https://f.example/x?passcode=***")\n');
  });
});
