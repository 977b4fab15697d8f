/**
 * charset.ts decodes the charsets mail is mostly written in without libmime; it must read every
 * byte exactly as libmime (mailparser's decoder, the reference) does, on this Node's ICU.
 */
import { decode as libmimeDecode, normalizeCharset } from 'libmime/lib/charset.js';
import CHARSET_ALIASES from 'libmime/lib/charsets.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalCharset, decodeCharset, TEXT_DECODER_CHARSETS } from '../../src/mail/mime/charset.js';

const EVERY_BYTE = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('decodeCharset reads as libmime does', () => {
  it.each(['windows-1252', ...TEXT_DECODER_CHARSETS])('%s: every byte, alone and all together', (charset) => {
    // single-byte charsets: each byte decodes on its own, so all 256 cover every input
    for (let b = 0; b < 256; b++) expect(decodeCharset(Buffer.from([b]), charset), `byte 0x${b.toString(16)}`).toBe(libmimeDecode(Buffer.from([b]), charset));
    expect(decodeCharset(EVERY_BYTE, charset)).toBe(libmimeDecode(EVERY_BYTE, charset));
  });

  it('every alias libmime knows, and its spelling repairs, name the same charset', () => {
    const labels = [...Object.keys(CHARSET_ALIASES), 'win-1257', 'WIN_1250', 'latin-2', 'L5', 'iso_8859_7', 'us_ascii', 'US-ASCII', 'utf_8', 'UTF8', ' Windows-1252 ', 'x-unknown', '', 'constructor', '__proto__', '7bit'];
    for (const label of labels) expect(canonicalCharset(label), label).toBe(normalizeCharset(label));
  });

  it('any bytes, in the labels of the common charsets and in the ones left to libmime', () => {
    const labels = ['iso-8859-1', 'latin1', 'us-ascii', 'cp1252', 'windows-1252', 'iso-8859-2', 'ISO-8859-15', 'koi8-r', 'utf-8', 'shift_jis', 'iso-2022-jp', 'gb2312', 'big5', 'utf-16le', 'utf-7', 'windows-1251', 'no-such-charset'];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...labels), (bytes, label) => {
        const buf = Buffer.from(bytes);
        expect(decodeCharset(buf, label)).toBe(libmimeDecode(buf, label));
      }),
      { numRuns: 2000, seed: 23 },
    );
  });
});
