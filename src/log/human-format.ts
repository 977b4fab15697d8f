/**
 * Log lines for a person at a terminal: pino's JSON record (already masked) → one line,
 * `warning: msg (key=value, ...)`. An expected failure (an IngestError) reads as its code and
 * message; only a bug (any other error) brings its stack, since that is what a bug report needs.
 */

export type LogFormatSetting = 'auto' | 'json' | 'human';

/** auto: human lines at a terminal, JSON for everything else (log shippers, pipes, files). */
export function chooseLogFormat(setting: LogFormatSetting, isTerminal: boolean): 'json' | 'human' {
  if (setting === 'auto') return isTerminal ? 'human' : 'json';
  return setting;
}

const LEVEL_PREFIX: Record<string, string> = { warn: 'warning: ', error: 'error: ', fatal: 'fatal: ', debug: 'debug: ', trace: 'trace: ' };
/** pino's bookkeeping: a person at a terminal knows which process and when. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'err']);

interface SerializedError {
  type?: unknown;
  name?: unknown;
  code?: unknown;
  message?: unknown;
  stack?: unknown;
  retry?: unknown;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') {
    const flat = oneLine(value);
    return /^[^\s"(),=]+$/.test(flat) ? flat : JSON.stringify(flat);
  }
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value);
}

function formatError(err: SerializedError): { text: string; stack?: string } {
  const message = typeof err.message === 'string' ? oneLine(err.message) : '';
  const expected = (err.type === 'IngestError' || err.name === 'IngestError') && typeof err.code === 'string';
  if (expected) return { text: `${err.code}: ${message}` };
  // the stack's first line repeats name and message; keep its frames
  const frames = typeof err.stack === 'string' ? err.stack.split('\n').filter((l) => /^\s+at /.test(l)).join('\n') : '';
  const stack = frames || undefined;
  const name = typeof err.type === 'string' ? err.type : typeof err.name === 'string' ? err.name : 'Error';
  return { text: `${name}: ${message}`, ...(stack ? { stack } : {}) };
}

/** One record → the text to print (one line, plus a stack's lines for a bug), with a newline. */
export function formatHumanLine(record: Record<string, unknown>): string {
  const level = typeof record.level === 'string' ? record.level : 'info';
  const err = record.err && typeof record.err === 'object' ? (record.err as SerializedError) : undefined;
  const error = err ? formatError(err) : undefined;
  const fields = Object.entries(record)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    // a field that repeats the error's own (code, retry) says nothing new
    .filter(([k, v]) => !(err && (k === 'code' || k === 'retry') && (err as Record<string, unknown>)[k] === v))
    .map(([k, v]) => `${k}=${formatValue(v)}`);
  const msg = typeof record.msg === 'string' ? oneLine(record.msg) : '';
  let line = `${LEVEL_PREFIX[level] ?? ''}${msg}`;
  if (error) line += msg ? `: ${error.text}` : error.text;
  if (fields.length > 0) line += ` (${fields.join(', ')})`;
  return `${line}\n${error?.stack ? `${error.stack}\n` : ''}`;
}
