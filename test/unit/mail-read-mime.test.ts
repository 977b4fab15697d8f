/**
 * The direct MIME reader (src/mail/mime/) against mailparser, which it replaces on the hot path
 * (issue 23 item 1): for every fixture and for generated notification mails (every charset,
 * transfer encoding, body shape, forward and gateway of test/support/generated-mail.ts), deciding
 * from the directly read content gives exactly what deciding from simpleParser's reading gives:
 * kind, links byte for byte, warnings, reason, Message-ID, Subject, From.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { decideContent, decideMail } from '../../src/mail/decide.js';
import { contentOfParsed } from '../../src/mail/extract/index.js';
import { readMime } from '../../src/mail/mime/read-mime.js';
import { decodeQuotedPrintable, decodeTextPart } from '../../src/mail/mime/text-part.js';
import { GENERATED_ALLOWED, mailSpecArb, renderMail } from '../support/generated-mail.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'mail');
const ALLOW = parseAllowlist(`${GENERATED_ALLOWED}, faspex5.example.com, xfer.faspex.example.com`);

/** The reference: mailparser reads the whole message, then the same decision. */
async function byMailparser(raw: Buffer) {
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, keepCidLinks: true });
  return decideContent(contentOfParsed(parsed), { allowlist: ALLOW });
}

describe('the direct reader decides as mailparser does', () => {
  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml'));
  it.each(fixtures)('fixture %s', async (name) => {
    const raw = readFileSync(join(FIXTURES, name));
    expect(await decideMail(raw, { allowlist: ALLOW })).toEqual(await byMailparser(raw));
  });

  it('generated mails (150)', async () => {
    let direct = 0;
    for (const spec of fc.sample(mailSpecArb, { numRuns: 150, seed: 2323 })) {
      const raw = renderMail(spec);
      if (readMime(raw, async () => ({ headerLines: [], attached: [] }))) direct++;
      expect(await decideMail(raw, { allowlist: ALLOW })).toEqual(await byMailparser(raw));
    }
    // the direct reader took them all on (none fell back to mailparser)
    expect(direct).toBe(150);
  });
});

describe('structures it leaves to mailparser', () => {
  const head = 'From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n';
  it('a multipart without a boundary, or whose boundary never occurs', () => {
    const open = async () => ({ headerLines: [], attached: [] });
    expect(readMime(Buffer.from(`${head}Content-Type: multipart/mixed\r\n\r\nhello\r\n`), open)).toBeUndefined();
    expect(readMime(Buffer.from(`${head}Content-Type: multipart/mixed; boundary="zz"\r\n\r\nhello\r\n`), open)).toBeUndefined();
  });
  it('a mail of more than 1,000 parts: mailparser refuses it, as before', async () => {
    const raw = Buffer.from(`${head}Content-Type: multipart/mixed; boundary=b\r\n\r\n${Array.from({ length: 1100 }, () => '--b\r\nContent-Type: text/plain\r\n\r\nx\r\n').join('')}--b--\r\n`);
    expect(readMime(raw, async () => ({ headerLines: [], attached: [] }))).toBeUndefined();
    await expect(decideMail(raw, { allowlist: ALLOW })).rejects.toThrow(/child nodes/);
  });
  it('and still decides them (mailparser reads them)', async () => {
    const raw = Buffer.from(`${head}Content-Type: multipart/mixed; boundary="zz"\r\n\r\nhttps://faspex.example.com/aspera/faspex/received/5\r\n`);
    expect(await decideMail(raw, { allowlist: ALLOW })).toEqual(await byMailparser(raw));
  });
  it('a part that runs to the end without a closing delimiter is read', async () => {
    const raw = Buffer.from(`${head}Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nhttps://faspex.example.com/aspera/faspex/received/6\r\n`);
    expect((await decideMail(raw, { allowlist: ALLOW })).links.map((l) => l.url)).toEqual(['https://faspex.example.com/aspera/faspex/received/6']);
    expect(await decideMail(raw, { allowlist: ALLOW })).toEqual(await byMailparser(raw));
  });
  it('a line that only starts with the boundary is not a delimiter', async () => {
    const raw = Buffer.from(`${head}Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n--zzz not a boundary https://faspex.example.com/aspera/faspex/received/7\r\n--zz--\r\n`);
    expect((await decideMail(raw, { allowlist: ALLOW })).links.map((l) => l.url)).toEqual(['https://faspex.example.com/aspera/faspex/received/7']);
  });
});

describe('decodeTextPart', () => {
  it('quoted-printable: soft breaks, =XX, a stray = kept, trailing blanks dropped', () => {
    expect(decodeQuotedPrintable('a=3Db=\r\nc = d  \r\ne=4').toString('latin1')).toBe('a=bc = d\r\ne=4');
  });
  it('base64 in a charset', () => {
    const body = Buffer.from(Buffer.from('Größe', 'latin1').toString('base64'));
    expect(decodeTextPart(body, { type: 'text/plain', encoding: 'BASE64', params: { charset: 'ISO-8859-1' } })).toBe('Größe');
  });
  it('format=flowed joins soft-broken lines (text/plain only)', () => {
    const body = Buffer.from('https://faspex.example.com/aspera/ \r\nfaspex/received/8\r\n');
    expect(decodeTextPart(body, { type: 'text/plain', params: { format: 'flowed', delsp: 'yes' } })).toBe('https://faspex.example.com/aspera/faspex/received/8');
    expect(decodeTextPart(body, { type: 'text/html', params: { format: 'flowed' } })).toBe('https://faspex.example.com/aspera/ \nfaspex/received/8\n');
  });
  it('a format=flowed mail decides as mailparser reads it', async () => {
    const raw = Buffer.from('From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\r\n\r\nGet it: https://faspex.example.com/aspera/ \r\nfaspex/external_deliveries/9?passcode=c0ffee0123456789abcdef0123456789abcdef01\r\n');
    const decision = await decideMail(raw, { allowlist: ALLOW });
    expect(decision.links.map((l) => l.url)).toEqual(['https://faspex.example.com/aspera/faspex/external_deliveries/9?passcode=c0ffee0123456789abcdef0123456789abcdef01']);
    expect(decision).toEqual(await byMailparser(raw));
  });
  it('an unknown charset reads as UTF-8', () => {
    expect(decodeTextPart(Buffer.from('héllo'), { type: 'text/plain', params: { charset: 'x-nobody-knows' } })).toBe('héllo');
  });
});
