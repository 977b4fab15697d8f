/**
 * header-value.ts reads the plain form of a structured header value itself and leaves the rest
 * to libmime; what it reads must be exactly libmime's reading (mailparser's, the reference).
 */
import libmime from 'libmime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHeaderValue, parsePlain } from '../../src/mail/mime/header-value.js';

const byLibmime = (s: string) => {
  const p = libmime.parseHeaderValue(s);
  return { value: p.value, params: { ...p.params } };
};

describe('parseHeaderValue', () => {
  it.each([
    'text/plain',
    'text/plain; charset=utf-8',
    'text/plain; CHARSET="UTF-8"; format=flowed; delsp=yes',
    'multipart/alternative; boundary="----=_Part_1_2.3"',
    'multipart/mixed;\tboundary=b1 ;',
    'text/html; charset = "iso-8859-1" ',
    'inline; filename="a; b.txt"',
    'attachment',
    'text/plain; charset=a; charset=b',
    // an encoded word in a plain parameter stays as written, for libmime too
    'text/plain; name="=?utf-8?Q?a=20b?="',
  ])('the plain form %j, read directly, as libmime reads it', (value) => {
    expect(parsePlain(value)).toBeDefined();
    expect(parseHeaderValue(value)).toEqual(byLibmime(value));
  });

  it.each([
    'text/plain; charset="utf\\"8"',
    "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf",
    'attachment; filename*0="a"; filename*1="b"',
    'attachment; inline; filename=a.txt',
    'text/plain; a=b c',
    'multipart/mixed; boundary="b"c',
    'text/plain; __proto__=x',
    '',
  ])('anything else, %j, goes to libmime', (value) => {
    expect(parsePlain(value)).toBeUndefined();
    expect(parseHeaderValue(value)).toEqual(byLibmime(value));
  });

  it('whatever it reads directly, libmime reads the same (generated values)', () => {
    const char = fc.constantFrom('a', 'B', '/', '-', '=', ';', '"', '\\', ' ', '\t', '(', ')', '*', "'", '%', '?', '_', '.', 'é', '\r\n');
    const token = fc.stringMatching(/^[a-zA-Z0-9=_.\-/]{1,8}$/);
    const param = fc.tuple(fc.constantFrom('charset', 'Boundary', 'name', 'format', 'x*0', 'constructor'), fc.oneof(token, token.map((t) => `"${t} ; x"`)), fc.constantFrom('', ' ', '\t'));
    const structured = fc.tuple(token, fc.array(param, { maxLength: 4 }), fc.boolean()).map(([v, ps, end]) => `${v}${ps.map(([k, x, sp]) => `;${sp}${k}${sp}=${sp}${x}`).join('')}${end ? ';' : ''}`);
    const any = fc.array(char, { maxLength: 30 }).map((cs) => cs.join(''));
    let direct = 0;
    fc.assert(
      fc.property(fc.oneof(structured, any), (value) => {
        const plain = parsePlain(value);
        if (plain) direct++;
        expect(parseHeaderValue(value)).toEqual(byLibmime(value));
      }),
      { numRuns: 3000, seed: 23 },
    );
    expect(direct).toBeGreaterThan(1000);
  });
});
