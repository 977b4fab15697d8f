import type { MessageStructureObject } from 'imapflow';
import { describe, expect, it } from 'vitest';
import { planMessage, planSections } from '../../src/mail/mime-plan.js';
import { partsContent } from '../../src/mail/mime/parts-content.js';

const text = (part: string, extra: Partial<MessageStructureObject> = {}): MessageStructureObject => ({ part, type: 'text/plain', parameters: { charset: 'utf-8' }, encoding: '7bit', size: 10, ...extra });

describe('planMessage', () => {
  it('a single-part message is read as TEXT', () => {
    expect(planSections(planMessage({ type: 'text/plain', encoding: 'quoted-printable', size: 100 })!)).toEqual(['TEXT']);
  });

  it('takes inline text and html, skips attachments of any type', () => {
    const root: MessageStructureObject = {
      type: 'multipart/mixed',
      parameters: { boundary: 'x' },
      childNodes: [
        { part: '1', type: 'multipart/alternative', childNodes: [text('1.1'), text('1.2', { type: 'text/html' })] },
        { part: '2', type: 'application/octet-stream', encoding: 'base64', size: 20_000_000, disposition: 'attachment' },
        text('3', { disposition: 'attachment', dispositionParameters: { filename: 'notes.txt' } }),
        { part: '4', type: 'application/ms-tnef', encoding: 'base64', size: 1000, disposition: 'attachment' },
      ],
    };
    expect(planSections(planMessage(root)!)).toEqual(['1.1', '1.2']);
  });

  it('follows attached messages: a multipart one by its sub-parts, a single-part one by <part>.TEXT', () => {
    const root: MessageStructureObject = {
      type: 'multipart/mixed',
      childNodes: [
        text('1'),
        { part: '2', type: 'message/rfc822', disposition: 'attachment', childNodes: [{ part: '2', type: 'multipart/alternative', childNodes: [text('2.1'), text('2.2', { type: 'text/html' })] }] },
        { part: '3', type: 'message/rfc822', childNodes: [text('3', { type: 'text/html' })] },
      ],
    };
    expect(planSections(planMessage(root)!)).toEqual(['1', '2.HEADER', '2.1', '2.2', '3.HEADER', '3.TEXT']);
  });

  it('stops at maxDepth', () => {
    const nested = (depth: number): MessageStructureObject =>
      depth === 0 ? text('1') : { type: 'multipart/mixed', childNodes: [{ part: '1', type: 'message/rfc822', childNodes: [nested(depth - 1)] }] };
    expect(planMessage(nested(2), 1)).toBeUndefined();
  });

  it('returns nothing when no part can hold a link', () => {
    expect(planMessage({ type: 'multipart/mixed', childNodes: [{ part: '1', type: 'image/png', size: 5 }] })).toBeUndefined();
  });
});

describe('partsContent (the plan\'s parts decoded in place)', () => {
  it('reads the fetched parts as mailparser would read the whole message: header fields, decoded text, attached messages', async () => {
    const root: MessageStructureObject = {
      type: 'multipart/mixed',
      childNodes: [
        text('1', { encoding: 'quoted-printable' }),
        { part: '2', type: 'message/rfc822', disposition: 'attachment', childNodes: [text('2', { type: 'text/html' })] },
      ],
    };
    const plan = planMessage(root)!;
    const header = Buffer.from('From: a@b.example\r\nSubject: hi\r\nContent-Type: multipart/mixed;\r\n boundary="orig"\r\nX-Aspera-Filepkg-Location: faspe://h/x\r\n\r\n');
    const parts = new Map([
      ['1', Buffer.from('soft=\r\nbreak =3D ok')],
      ['2.header', Buffer.from('From: faspex@f.example\r\nSubject: inner\r\nContent-Type: text/html\r\n\r\n')],
      ['2.text', Buffer.from('<a href="https://f.example/x?a=1&amp;b=2">x</a>')],
    ]);
    const content = partsContent(header, plan, parts);
    expect(content.headerLines.find((h) => h.key === 'subject')?.line).toBe('Subject: hi');
    expect(content.headerLines.find((h) => h.key === 'x-aspera-filepkg-location')?.line).toBe('X-Aspera-Filepkg-Location: faspe://h/x');
    expect(content.text).toBe('softbreak = ok');
    expect(content.html).toBeUndefined();
    expect(content.attached).toHaveLength(1);
    const inner = await content.attached[0]!();
    expect(inner.headerLines.find((h) => h.key === 'subject')?.line).toBe('Subject: inner');
    expect(inner.html).toContain('a=1&amp;b=2');
  });
});
