/**
 * Progress for people: a one-line bar redrawn in place on a terminal, or plain lines (every 10%
 * or 5 s) when stderr is a file or a pipe, so logs stay readable. The formatting and the
 * throttle are pure; the reporter only writes.
 */
import type { DownloadProgress } from './download-package.js';
import { formatBytes, formatDuration, formatRate } from './units.js';

/** `[#########-----------]  45%  12.3 MiB / 27.0 MiB  3.2 MiB/s  ETA 0:05` fitted to `columns` */
export function renderBar(p: DownloadProgress, columns: number): string {
  const pct = p.total ? Math.min(100, Math.floor((p.bytes * 100) / p.total)) : undefined;
  const eta = p.total && p.rateBps ? (p.total - p.bytes) / p.rateBps : undefined;
  const facts = [
    pct === undefined ? '   ?%' : `${String(pct).padStart(3)}%`,
    `${formatBytes(p.bytes)}${p.total === undefined ? '' : ` / ${formatBytes(p.total)}`}`,
    formatRate(p.rateBps),
    `ETA ${formatDuration(eta)}`,
  ].join('  ');
  const room = columns - facts.length - 4;
  if (room < 10) return facts.slice(0, Math.max(0, columns - 1));
  const width = Math.min(40, room);
  const filled = pct === undefined ? 0 : Math.round((width * pct) / 100);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]  ${facts}`;
}

export function renderPlain(p: DownloadProgress): string {
  const pct = p.total ? ` (${Math.min(100, Math.floor((p.bytes * 100) / p.total))}%)` : '';
  return `progress: ${formatBytes(p.bytes)}${p.total === undefined ? '' : ` of ${formatBytes(p.total)}`}${pct} at ${formatRate(p.rateBps)}`;
}

export interface PlainThrottle {
  lastAt: number;
  lastTenth: number;
}

/** A plain line when a new tenth is reached or 5 s have passed since the last line. */
export function shouldPrintPlain(state: PlainThrottle, p: DownloadProgress, now: number): { print: boolean; next: PlainThrottle } {
  const tenth = p.total ? Math.floor((p.bytes * 10) / p.total) : -1;
  const print = tenth > state.lastTenth || now - state.lastAt >= 5_000;
  return { print, next: print ? { lastAt: now, lastTenth: Math.max(tenth, state.lastTenth) } : state };
}

export interface ProgressReporter {
  progress(p: DownloadProgress): void;
  /** a readable line above the bar */
  line(text: string): void;
  /** removes the bar (before the final message) */
  done(): void;
}

type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export function createReporter(out: Stream, now: () => number = Date.now): ProgressReporter {
  if (out.isTTY) {
    let shown = false;
    let lastDraw = 0;
    let last: DownloadProgress | undefined;
    const clear = () => shown && out.write('\r\x1b[2K');
    const draw = (p: DownloadProgress) => {
      out.write(`\r\x1b[2K${renderBar(p, out.columns ?? 80)}`);
      shown = true;
    };
    return {
      progress(p) {
        last = p;
        // Redrawing more than ~10 times a second only costs CPU and flicker.
        if (now() - lastDraw < 100 && !(p.total !== undefined && p.bytes >= p.total)) return;
        lastDraw = now();
        draw(p);
      },
      line(text) {
        clear();
        out.write(`${text}\n`);
        shown = false;
        if (last) draw(last);
      },
      done() {
        clear();
        shown = false;
      },
    };
  }
  let throttle: PlainThrottle = { lastAt: now(), lastTenth: -1 };
  return {
    progress(p) {
      const d = shouldPrintPlain(throttle, p, now());
      throttle = d.next;
      if (d.print) out.write(`${renderPlain(p)}\n`);
    },
    line: (text) => void out.write(`${text}\n`),
    done: () => {},
  };
}
