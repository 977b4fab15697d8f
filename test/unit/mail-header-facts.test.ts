/**
 * header-facts.ts reads Message-ID, Subject and From without libmime when a value holds no
 * encoded word; what it reads must be exactly what libmime's decodeHeader and decodeWords give
 * (mailparser's reading, the reference), for plain values and encoded ones alike.
 */
import libmime from 'libmime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerLines } from '../../src/mail/mime/content.js';
import { mailFacts } from '../../src/mail/mime/header-facts.js';

/** the address parser is passed in; these tests compare Subject and Message-ID, so any will do */
const firstWord = (v: string) => ({ value: [{ address: v.split(/\s+/)[0] }] });

function byLibmime(field: string): string {
  const value = Buffer.from(String(libmime.decodeHeader(field).value ?? '').trim(), 'binary').toString();
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

function subjectOf(field: string): string | undefined {
  return mailFacts(headerLines(`${field}\r\nFrom: a@example.com\r\n`), firstWord).subject;
}

describe('mailFacts reads header values as libmime does', () => {
  it.each([
    'Subject: Package ready',
    'Subject:   spaced out   ',
    'Subject: folded\r\n  over two lines',
    'Subject: folded\r\n\tby a tab',
    'Subject: a: colon inside',
    'Subject: =?utf-8?Q?caf=C3=A9?= au lait',
    'Subject: =?UTF-8?B?w6l0w6k=?= =?UTF-8?B?IMOpdMOp?=',
    'Subject: =?iso-8859-1?q?=E9t=E9?=',
    'Subject: not =? an encoded word',
    'Subject: =?bad',
    'Subject: a\u0000b',
    'Subject: ünïcödé raw',
  ])('%j', (field) => {
    expect(subjectOf(field)).toBe(byLibmime(field) || undefined);
  });

  it('generated values, plain and encoded', () => {
    const word = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('=?utf-8?Q?a=20b?=', '=?utf-8?B?w6k=?=', '=?', '?=', ':', '\t', '\r\n ', '\u0000'));
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), (parts) => {
        const field = `Subject: ${parts.join(' ')}`;
        // a bare line break would start another field: keep every break folded
        fc.pre(!/(?:\r\n|\r|\n)(?![ \t])/.test(field) && !/[\r\n]$/.test(field));
        expect(subjectOf(field)).toBe(byLibmime(field) || undefined);
      }),
      { numRuns: 500 },
    );
  });

  it('Message-ID gets its angle brackets, from the same value', () => {
    expect(mailFacts(headerLines('Message-ID:  abc@example.com \r\n'), firstWord).messageId).toBe('<abc@example.com>');
    expect(mailFacts(headerLines('Message-ID: <x@y>\r\n'), firstWord).messageId).toBe('<x@y>');
  });
});
