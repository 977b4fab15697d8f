import { describe, expect, it } from 'vitest';
import { createReporter, renderBar, renderPlain, shouldPrintPlain } from '../../src/ascp/terminal-progress.js';
import { formatBytes, formatDuration } from '../../src/ascp/units.js';

describe('progress rendering', () => {
  it.each<[number, string]>([[0, '0 B'], [1023, '1023 B'], [1536, '1.5 KiB'], [300_005, '293 KiB'], [5 * 1024 ** 3, '5.0 GiB']])('formatBytes(%i)', (n, s) => expect(formatBytes(n)).toBe(s));
  it.each<[number | undefined, string]>([[undefined, '--:--'], [5, '0:05'], [65, '1:05'], [3725, '1:02:05']])('formatDuration(%s)', (n, s) => expect(formatDuration(n)).toBe(s));

  it('draws a bar with percentage, bytes, rate and ETA that fits the terminal', () => {
    const line = renderBar({ bytes: 512 * 1024, total: 1024 * 1024, rateBps: 256 * 1024 }, 100);
    expect(line).toBe(`[${'#'.repeat(20)}${'-'.repeat(20)}]   50%  512 KiB / 1.0 MiB  256 KiB/s  ETA 0:02`);
    expect(line.length).toBeLessThanOrEqual(100);
    expect(renderBar({ bytes: 10 }, 30).length).toBeLessThanOrEqual(30);
    expect(renderBar({ bytes: 10 }, 80)).toMatch(/\?% {2}10 B {2}- {2}ETA --:--$/);
  });

  it('plain lines', () => {
    expect(renderPlain({ bytes: 1024, total: 4096, rateBps: 100 })).toBe('progress: 1.0 KiB of 4.0 KiB (25%) at 100 B/s');
  });

  it.each<[string, { lastAt: number; lastTenth: number }, number, number, boolean]>([
    ['a new tenth', { lastAt: 0, lastTenth: 1 }, 25, 100, true],
    ['same tenth, soon', { lastAt: 0, lastTenth: 2 }, 25, 100, false],
    ['same tenth, 5 s later', { lastAt: 0, lastTenth: 2 }, 25, 5000, true],
    ['no total, 5 s later', { lastAt: 0, lastTenth: -1 }, -1, 5000, true],
    ['no total, soon', { lastAt: 0, lastTenth: -1 }, -1, 10, false],
  ])('throttle: %s', (_name, state, pct, now, print) => {
    const p = pct < 0 ? { bytes: 10 } : { bytes: pct, total: 100 };
    expect(shouldPrintPlain(state, p, now).print).toBe(print);
  });

  it('the plain reporter prints about every 10%', () => {
    const out: string[] = [];
    const r = createReporter({ write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WritableStream, () => 0);
    for (let b = 0; b <= 1000; b += 5) r.progress({ bytes: b, total: 1000 });
    expect(out).toHaveLength(11);
  });

  it('the TTY reporter redraws in place and keeps lines above the bar', () => {
    const out: string[] = [];
    let t = 0;
    const stream = { isTTY: true, columns: 80, write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WritableStream;
    const r = createReporter(stream, () => (t += 200));
    r.progress({ bytes: 1, total: 10 });
    r.line('file done: x');
    r.done();
    const text = out.join('');
    expect(text).toContain('\r\x1b[2K[');
    expect(text).toContain('file done: x\n');
    expect(text.endsWith('\r\x1b[2K')).toBe(true);
  });
});
