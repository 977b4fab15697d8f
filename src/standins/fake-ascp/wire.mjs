// The fake ascp's outputs: FASPMGR 2 frames on the management socket and ascp-like text
// (faspex-protocol.md §6.2, §6.3).
import { connect } from 'node:net';

const ESC = '\x1b';
const PATH_FIELDS = new Set(['Source', 'Destination', 'File']);

export function frame(type, fields = {}) {
  const esc = (v) => v.replaceAll(ESC, ESC + ESC).replaceAll('\n', `${ESC}n`).replaceAll('\r', `${ESC}r`);
  const lines = ['FASPMGR 2', `Type: ${type}`];
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) lines.push(`${k}: ${PATH_FIELDS.has(k) ? esc(String(v)) : String(v)}`);
  return `${lines.join('\n')}\n\n`;
}

/** Connects to `-M [host:]port`; resolves to a sender, or undefined without -M. */
export function openManagement(spec) {
  if (!spec) return Promise.resolve(undefined);
  const m = /^(?:(.+):)?(\d+)$/.exec(spec);
  if (!m) throw new Error(`bad -M value ${spec}`);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: m[1] || '127.0.0.1', port: Number(m[2]) }, () => {
      resolve({
        send: (type, fields) => new Promise((r) => socket.write(frame(type, fields), () => r())),
        raw: (text) => new Promise((r) => socket.write(text, () => r())),
        close: () => new Promise((r) => socket.end(() => r())),
      });
    });
    socket.on('error', reject);
  });
}

const K = 1024;

function human(n) {
  if (n >= K * K * K) return `${(n / K / K / K).toFixed(0)}GB`;
  if (n >= K * K) return `${(n / K / K).toFixed(0)}MB`;
  return `${Math.max(0, Math.round(n / K))}KB`;
}

function clock(s) {
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

/** `name   45%  72MB 37.7Mb/s    01:58 ETA` (redrawn with CR, like ascp's bar) */
export function progressLine(name, done, size, bitsPerSec, etaSeconds, final) {
  const pct = size === 0 ? 100 : Math.floor((done * 100) / size);
  const rate = `${(bitsPerSec / 1e6).toFixed(1)}Mb/s`;
  return `\r${name.padEnd(40).slice(0, 60)} ${String(pct).padStart(3)}% ${human(done).padStart(6)} ${rate.padStart(10)}    ${clock(etaSeconds)}${final ? '    ' : ' ETA'}`;
}

export function completedText(bytes, seconds, files) {
  const kbits = seconds > 0 ? Math.round((bytes * 8) / 1000 / seconds) : 0;
  return `Completed: ${Math.round(bytes / K)}K bytes transferred in ${Math.round(seconds)} seconds\n (${kbits}K bits/sec), in ${files} file${files === 1 ? '' : 's'}.\n`;
}

export function sessionStopText(description) {
  // on a line of its own, after the last progress line ascp redrew with \r
  return `\nSession Stop  (Error: ${description})\n`;
}
