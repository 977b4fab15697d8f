/**
 * A text part's bytes in its declared charset, exactly as libmime's decoder (mailparser's, the
 * reference) reads them, without loading libmime for the charsets mail is mostly written in.
 * libmime brings iconv-lite and encoding-japanese, whose tables cost a one-shot `extract` more
 * CPU than the rest of its work (docs/benchmarks.md, one-shot commands).
 *
 * Decoded here: UTF-8 and ASCII (as UTF-8, as libmime does), windows-1252 (which libmime also
 * reads for ISO-8859-1, latin1 and us-ascii labels), and the single-byte charsets whose
 * TextDecoder agrees with iconv-lite on every byte. test/unit/mail-charset.test.ts checks all 256
 * bytes of each against libmime on the running Node, so an ICU that decodes one differently fails
 * the test instead of changing what a mail says. Every other charset goes to libmime, loaded on
 * first use.
 */
import { createRequire } from 'node:module';
import { TextDecoder } from 'node:util';
import CHARSET_ALIASES from 'libmime/lib/charsets.js';

type Decode = (buf: Buffer, charset: string) => string;

/**
 * libmime's canonical names decoded by TextDecoder: identical to iconv-lite byte for byte on
 * Node 20 and 24 both (KOI8-U is not: Node 24's ICU reads three of its bytes differently).
 */
export const TEXT_DECODER_CHARSETS: ReadonlySet<string> = new Set([
  'ISO-8859-2',
  'ISO-8859-3',
  'ISO-8859-4',
  'ISO-8859-5',
  'ISO-8859-6',
  'ISO-8859-7',
  'ISO-8859-8',
  'ISO-8859-10',
  'ISO-8859-13',
  'ISO-8859-14',
  'ISO-8859-15',
  'KOI8-R',
  'windows-1256',
]);

/**
 * windows-1252's 0x80–0x9F, as iconv-lite maps them (U+FFFD for the five bytes the code page
 * leaves undefined); every other byte is its ISO-8859-1 self.
 */
const WINDOWS_1252_HIGH = '€\uFFFD‚ƒ„…†‡ˆ‰Š‹Œ\uFFFDŽ\uFFFD\uFFFD‘’“”•–—˜™š›œ\uFFFDžŸ';

const UTF8_COMPATIBLE = /^(?:(?:us-)?ascii|utf-8|7bit)$/i;
const aliases = new Map(Object.entries(CHARSET_ALIASES as Record<string, string>));
const decoders = new Map<string, TextDecoder>();
let libmimeDecode: Decode | undefined;

/** libmime's normalizeCharset: its alias table, then its spelling repairs (win-1257, latin2...). */
export function canonicalCharset(charset: string): string {
  let name = (charset || 'UTF-8').toString().toLowerCase().trim();
  const canonical = aliases.get(name);
  if (canonical) return canonical;
  name = name
    .replace(/^utf[-_]?(\d+)/, 'utf-$1')
    .replace(/^(?:us[-_]?)ascii/, 'windows-1252')
    .replace(/^win(?:dows)?[-_]?(\d+)/, 'windows-$1')
    .replace(/^(?:latin|iso[-_]?8859)?[-_]?(\d+)/, 'iso-8859-$1')
    .replace(/^l[-_]?(\d+)/, 'iso-8859-$1');
  return aliases.get(name) || name.toUpperCase();
}

/** The text of `buf` in `charset`, as libmime's `decode(buf, charset)` gives it. */
export function decodeCharset(buf: Buffer, charset: string): string {
  const name = canonicalCharset(charset);
  if (UTF8_COMPATIBLE.test(name)) return buf.toString('utf8');
  if (name === 'windows-1252') return decodeWindows1252(buf);
  if (TEXT_DECODER_CHARSETS.has(name)) {
    let decoder = decoders.get(name);
    if (!decoder) decoders.set(name, (decoder = new TextDecoder(name)));
    return decoder.decode(buf);
  }
  libmimeDecode ??= (createRequire(import.meta.url)('libmime/lib/charset.js') as { decode: Decode }).decode;
  return libmimeDecode(buf, charset);
}

function decodeWindows1252(buf: Buffer): string {
  const latin1 = buf.toString('latin1');
  return /[\x80-\x9f]/.test(latin1) ? latin1.replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80]!) : latin1;
}
