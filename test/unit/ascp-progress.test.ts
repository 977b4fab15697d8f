import { describe, expect, it } from 'vitest';
import { ascpErrorInfo, ASCP_ERRORS, decideAscpError } from '../../src/ascp/error-codes.js';
import type { MgmtEvent } from '../../src/ascp/management.js';
import { applyEvent, decideOutcome, initialProgress, lastMeaningfulLine, type RunEnd } from '../../src/ascp/progress.js';

const ev = (type: string, fields: Record<string, string | number> = {}): MgmtEvent => ({
  type,
  fields: Object.fromEntries(Object.entries({ Type: type, ...fields }).map(([k, v]) => [k, String(v)])),
});

describe('applyEvent', () => {
  it('follows a resumed transfer: bytes done = TransferBytes + StartByte, total from PreTransferBytes', () => {
    let s = initialProgress(0);
    s = applyEvent(s, ev('INIT', { SessionId: 'abc' }), 0);
    s = applyEvent(s, ev('NOTIFICATION', { PreTransferBytes: 12_582_912 }), 10);
    s = applyEvent(s, ev('STATS', { TransferBytes: 0, StartByte: 2_172_544, File: '/dl/a' }), 20);
    expect(s).toMatchObject({ sessionStarted: true, sessionId: 'abc', total: 12_582_912, bytesDone: 2_172_544, bytesTransferred: 0, file: '/dl/a' });
    s = applyEvent(s, ev('STATS', { TransferBytes: 1000, StartByte: 2_172_544 }), 700);
    expect(s.bytesDone).toBe(2_173_544);
    expect(s.lastProgressAt).toBe(700);
    s = applyEvent(s, ev('STATS', { TransferBytes: 3000, StartByte: 2_172_544 }), 1300);
    expect(s.rateBps).toBeGreaterThan(0);
    s = applyEvent(s, ev('STOP', { File: '/dl/a' }), 1400);
    s = applyEvent(s, ev('DONE', { TransferBytes: 10_410_368, FileBytes: 12_582_912 }), 1500);
    expect(s).toMatchObject({ filesDone: 1, bytesDone: 12_582_912, bytesTransferred: 10_410_368 });
  });

  it('never moves backwards and does not count a repeat as progress', () => {
    let s = applyEvent(initialProgress(0), ev('STATS', { TransferBytes: 500, StartByte: 0 }), 10);
    s = applyEvent(s, ev('STATS', { TransferBytes: 400, StartByte: 0 }), 5000);
    expect(s.bytesDone).toBe(500);
    expect(s.lastProgressAt).toBe(10);
  });

  it('collects FILEERROR descriptions', () => {
    const s = applyEvent(initialProgress(0), ev('FILEERROR', { File: 'x', Description: 'Permission denied' }), 0);
    expect(s.fileErrors).toEqual(['x: Permission denied']);
  });
});

const end = (over: Partial<RunEnd>): RunEnd => ({
  lastEvent: undefined, eventCount: 0, connected: true, exitCode: 0, signal: undefined, stopReason: undefined, diagnostics: '',
  network: { host: 'fx.example.com', sshPort: 33001, faspPort: 33001 }, stallSeconds: 300, ...over,
});

describe('decideOutcome', () => {
  it.each<[string, Partial<RunEnd>, string, string]>([
    ['DONE and exit 0', { lastEvent: ev('DONE'), eventCount: 5 }, 'ok', ''],
    ['DONE but exit 1', { lastEvent: ev('DONE'), eventCount: 5, exitCode: 1 }, 'TRANSFER_FAILED', 'later'],
    ['exit 0 without DONE', { lastEvent: ev('STATS'), eventCount: 5 }, 'TRANSFER_FAILED', 'later'],
    ['ERROR 16 connection lost', { lastEvent: ev('ERROR', { Code: 16, Description: 'Connection lost' }), eventCount: 3, exitCode: 1 }, 'TRANSFER_FAILED', 'later'],
    ['ERROR 34 token', { lastEvent: ev('ERROR', { Code: 34, Description: 'token denied by server' }), eventCount: 2, exitCode: 1 }, 'TOKEN_REFUSED', 'refresh'],
    ['ERROR 25 disk full', { lastEvent: ev('ERROR', { Code: 25, Description: 'No space left on disk' }), eventCount: 2, exitCode: 1 }, 'DISK_FULL', 'later'],
    ['ERROR 4 no such file', { lastEvent: ev('ERROR', { Code: 4, Description: 'Server aborted session: No such file or directory' }), eventCount: 2, exitCode: 1 }, 'TRANSFER_FAILED', 'never'],
    ['last event INIT (issue #139)', { lastEvent: ev('INIT'), eventCount: 1, exitCode: 1 }, 'NO_SESSION', 'later'],
    ['never connected', { connected: false, exitCode: 1 }, 'NO_SESSION', 'later'],
    ['killed by SIGKILL mid-file', { lastEvent: ev('STATS'), eventCount: 9, exitCode: undefined, signal: 'SIGKILL' }, 'TRANSFER_FAILED', 'later'],
    ['interrupted from outside', { lastEvent: ev('STATS'), eventCount: 9, exitCode: undefined, signal: 'SIGINT' }, 'CANCELLED', 'later'],
    ['we cancelled', { stopReason: 'cancelled', lastEvent: ev('ERROR', { Code: 28 }), eventCount: 3 }, 'CANCELLED', 'later'],
    ['stall watchdog', { stopReason: 'stalled', lastEvent: ev('STATS'), eventCount: 3, signal: 'SIGINT' }, 'NO_PROGRESS', 'later'],
    ['no management connection', { stopReason: 'no-connection', connected: false }, 'NO_SESSION', 'later'],
    ['INIT then silence', { stopReason: 'no-session', lastEvent: ev('INIT'), eventCount: 1 }, 'NO_SESSION', 'later'],
    ['garbage on the port', { stopReason: 'protocol', protocolError: 'data before a FASPMGR header' }, 'TRANSFER_FAILED', 'later'],
  ])('%s', (_name, input, code, retry) => {
    const o = decideOutcome(end(input));
    if (code === 'ok') return expect(o.ok).toBe(true);
    expect(o).toMatchObject({ ok: false, code, retry });
  });

  it('names the transfer ports when no session started', () => {
    const o = decideOutcome(end({ stopReason: 'no-session', network: { host: 'fx', sshPort: 22, faspPort: 33002 } }));
    expect(!o.ok && o.message).toMatch(/TCP port 22 \(SSH\) and UDP port 33002 \(FASP\)/);
  });

  it('adds the telling line of ascp\'s text output', () => {
    const o = decideOutcome(end({ lastEvent: ev('STATS'), eventCount: 4, exitCode: 1, diagnostics: 'x  50%\rx 60%\nSession Stop  (Error: Disk write failed)\nbye\n' }));
    expect(!o.ok && o.message).toMatch(/ascp said: Session Stop {2}\(Error: Disk write failed\)/);
  });

  it('does not repeat what the ERROR event already said', () => {
    const diagnostics = 'Session Stop  (Error: Disk write failed: No space left on disk)\n';
    const o = decideOutcome(end({ lastEvent: ev('ERROR', { Code: 25, Description: 'Disk write failed: No space left on disk' }), eventCount: 3, exitCode: 1, diagnostics }));
    expect(!o.ok && o.message).toBe('waiting for disk space: the download disk is full; the partial files are kept and the download goes on by itself once there is room (ascp error 25 NO_SPACE_LEFT: Disk write failed: No space left on disk)');
  });

  it.each([
    ['', undefined],
    ['one\ntwo\n', 'two'],
    ['ascp: Failed to open TCP connection for SSH, exiting.\n\nSession Stop  (Error: Failed to open TCP connection for SSH)\n', 'Session Stop  (Error: Failed to open TCP connection for SSH)'],
  ])('lastMeaningfulLine(%j)', (text, expected) => expect(lastMeaningfulLine(text)).toBe(expected));
});

describe('ascp error table', () => {
  it('covers every code from 0 to 69', () => {
    for (let c = 0; c <= 69; c++) expect(ASCP_ERRORS.has(c), `code ${c}`).toBe(true);
  });

  it.each([
    [12, true], [13, true], [14, true], [15, true], [16, true], [17, true], [18, true], [23, true], [32, true], [33, true],
    [35, true], [36, true], [37, true], [39, true], [40, true], [44, true], [45, true], [47, true], [61, true], [69, true],
    [0, false], [1, false], [4, false], [5, false], [11, false], [19, false], [20, false], [24, false], [25, false], [26, false],
    [27, false], [28, false], [29, false], [30, false], [31, false], [34, false], [38, false], [41, false], [42, false], [43, false],
    [46, false], [48, false], [49, false], [50, false], [51, false], [52, false], [60, false], [62, false], [63, false], [64, false],
    [65, false], [66, false], [67, false], [68, false],
  ])('code %i retryable: %s', (code, retryable) => expect(ascpErrorInfo(code).retryable).toBe(retryable));

  it.each<[number, string, string, string, RegExp]>([
    [16, 'Connection lost', 'TRANSFER_FAILED', 'later', /connection to the transfer server was lost/],
    [14, 'Error establishing data connection', 'TRANSFER_FAILED', 'later', /UDP data connection/],
    [14, 'Target address not available', 'TRANSFER_FAILED', 'never', /not reachable/],
    [34, 'Management authorization refused: token denied by server', 'TOKEN_REFUSED', 'refresh', /refused the transfer token/],
    [0, 'Management authorization refused: token denied by server', 'TOKEN_REFUSED', 'refresh', /token/],
    [25, 'No space left on disk', 'DISK_FULL', 'later', /^waiting for disk space: the download disk is full/],
    [28, 'Cancelled by user', 'CANCELLED', 'later', /^the transfer was cancelled; partial files are kept for a resume/],
    [4, 'Server aborted session: No such file or directory', 'TRANSFER_FAILED', 'never', /do not exist on the server.*No such file or directory/],
    [19, 'Authentication failure', 'TRANSFER_FAILED', 'never', /refused the login \(ascp error 19 AUTH: Authentication failure\)$/],
    [99, 'Something new', 'TRANSFER_FAILED', 'never', /unknown error code 99/],
  ])('code %i "%s" → %s / %s', (code, desc, errorCode, retry, message) => {
    const d = decideAscpError(code, desc);
    expect(d).toMatchObject({ errorCode, retry });
    expect(d.message).toMatch(message);
  });
});
