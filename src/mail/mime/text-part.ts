/**
 * One text part's bytes as the text a reader sees: transfer decoding (base64, quoted-printable,
 * anything else as is), format=flowed unfolding (text/plain only, RFC 3676), then the charset,
 * the way mailparser does it (libmime's decoder and aliases, charset.ts; ASCII and UTF-8 read as
 * UTF-8), line ends made `\n`. Pure; no stream per part, which is most of what a full parse costs.
 */

/** loaded for format=flowed only: libmime brings the charset tables charset.ts avoids */
let libmime: typeof Libmime | undefined;
import { createRequire } from 'node:module';
import type Libmime from 'libmime';
import { decodeCharset } from './charset.js';

export interface TextPartShape {
  /** text/plain or text/html */
  type: string;
  /** Content-Transfer-Encoding, any case */
  encoding?: string | undefined;
  /** Content-Type parameters, lower-case names (charset, format, delsp) */
  params?: Readonly<Record<string, string>> | undefined;
}

export function decodeTextPart(body: Buffer, shape: TextPartShape): string {
  const encoding = (shape.encoding ?? '').trim().toLowerCase();
  let bytes = encoding === 'base64' ? Buffer.from(body.toString('latin1'), 'base64') : encoding === 'quoted-printable' ? decodeQuotedPrintable(body.toString('latin1')) : body;
  const params = shape.params ?? {};
  if (shape.type === 'text/plain' && params.format?.trim().toLowerCase() === 'flowed') {
    libmime ??= createRequire(import.meta.url)('libmime') as typeof Libmime;
    bytes = Buffer.from(libmime.decodeFlowed(bytes.toString('binary'), params.delsp?.trim().toLowerCase() === 'yes'), 'binary');
  }
  const charset = params.charset?.trim() || 'utf-8';
  const plain = ['ascii', 'usascii', 'utf8'].includes(charset.toLowerCase().replace(/[^a-z0-9]+/g, ''));
  let text: string;
  try {
    text = plain ? bytes.toString('utf8') : decodeCharset(bytes, charset);
  } catch {
    // a charset nobody can decode: read as UTF-8, as mailparser does
    text = bytes.toString('utf8');
  }
  return text.replace(/\r?\n/g, '\n');
}

/**
 * RFC 2045 quoted-printable, as libqp decodes it: trailing blanks of a line dropped, `=` at a
 * line end joins the lines, `=XX` is one byte, any other `=` stays.
 */
export function decodeQuotedPrintable(input: string): Buffer {
  const text = input.replace(/[\t ]+$/gm, '').replace(/=(?:\r?\n|$)/g, '');
  const out = Buffer.allocUnsafe(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d && i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      out[n++] = parseInt(text.slice(i + 1, i + 3), 16);
      i += 2;
    } else {
      out[n++] = c & 0xff;
    }
  }
  return out.subarray(0, n);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
