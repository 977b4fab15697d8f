import { describe, expect, it } from 'vitest';
import { formatEvent, intField, ManagementParser, ManagementProtocolError, unescapePathField } from '../../src/ascp/management.js';

const ESC = '\x1b';

describe('ManagementParser', () => {
  it('reads the IBM sample frames (INIT, ERROR)', () => {
    const p = new ManagementParser();
    const events = p.push(
      'FASPMGR 2\nType: INIT\nDirection: Send\nOperation: Transfer\nSessionId: f8fd\nUserStr: 6a31\n\n' +
        'FASPMGR 2\nType: ERROR\nCode: 5\nDescription: Server aborted session: Read access denied for user\nLoss: 0\n\n',
    );
    expect(events.map((e) => e.type)).toEqual(['INIT', 'ERROR']);
    expect(events[1]!.fields.Description).toBe('Server aborted session: Read access denied for user');
    expect(intField(events[1]!, 'Code')).toBe(5);
    expect(p.lastEvent?.type).toBe('ERROR');
    expect(p.eventCount).toBe(2);
  });

  it('completes events whatever the chunking, one character at a time included', () => {
    const text = formatEvent('STATS', { TransferBytes: 10, StartByte: 5 }) + formatEvent('DONE', { TransferBytes: 15 });
    const p = new ManagementParser();
    const events = [...text].flatMap((c) => p.push(c));
    expect(events.map((e) => [e.type, e.fields.TransferBytes])).toEqual([['STATS', '10'], ['DONE', '15']]);
  });

  it.each([
    ['Description: error: details', 'Description', 'error: details'],
    ['Description:  two spaces', 'Description', ' two spaces'],
    ['Description:nospace', 'Description', 'nospace'],
    ['Description: ', 'Description', ''],
  ])('field %j splits at the first colon, one space removed', (line, key, value) => {
    const [e] = new ManagementParser().push(`FASPMGR 2\nType: X\n${line}\n\n`);
    expect(e!.fields[key]).toBe(value);
  });

  it('unescapes ESC sequences in path fields only', () => {
    const raw = `a${ESC}nb${ESC}rc${ESC}${ESC}d`;
    const [e] = new ManagementParser().push(`FASPMGR 2\nType: STOP\nFile: ${raw}\nDescription: ${raw}\n\n`);
    expect(e!.fields.File).toBe(`a\nb\rc${ESC}d`);
    expect(e!.fields.Description).toBe(raw);
  });

  it.each([
    ['plain', 'plain'],
    [`x${ESC}`, `x${ESC}`],
    [`${ESC}q`, `${ESC}q`],
  ])('unescapePathField(%j)', (input, expected) => expect(unescapePathField(input)).toBe(expected));

  it('round-trips a path with newline, CR and ESC through formatEvent', () => {
    const file = `/dl/we\nird\r${ESC}name`;
    const [e] = new ManagementParser().push(formatEvent('STOP', { File: file }));
    expect(e!.fields.File).toBe(file);
  });

  it('discards an incomplete event on a second header, with a warning', () => {
    const p = new ManagementParser();
    const events = p.push('FASPMGR 2\nType: STATS\nTransferBytes: 1\nFASPMGR 2\nType: DONE\n\n');
    expect(events.map((e) => e.type)).toEqual(['DONE']);
    expect(p.warnings).toEqual(['incomplete STATS event discarded']);
  });

  it.each([
    ['data before a header', 'Type: INIT\n\n'],
    ['a line without a colon', 'FASPMGR 2\nnonsense\n'],
    ['an HTTP response', 'HTTP/1.1 200 OK\n'],
    ['another protocol version', 'FASPMGR 3\nType: INIT\n\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => new ManagementParser().push(text)).toThrow(ManagementProtocolError);
  });

  it('accepts CRLF framing and blank lines between events', () => {
    const events = new ManagementParser().push('\r\nFASPMGR 2\r\nType: DONE\r\nTransferBytes: 3\r\n\r\n\n');
    expect(events).toEqual([{ type: 'DONE', fields: { Type: 'DONE', TransferBytes: '3' } }]);
  });

  it('end() reports a cut-off event', () => {
    const p = new ManagementParser();
    p.push('FASPMGR 2\nType: STATS\n');
    expect(p.end()).toEqual({ incomplete: true });
    expect(new ManagementParser().end()).toEqual({ incomplete: false });
  });

  it.each([
    ['42', 42],
    ['50%', undefined],
    ['', undefined],
    ['abc', undefined],
    ['99999999999999999999', undefined],
  ])('intField(%j)', (raw, expected) => {
    expect(intField({ type: 'X', fields: { N: raw } }, 'N')).toBe(expected);
  });
});
