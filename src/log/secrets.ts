/**
 * Secrets (passcodes, Faspex 5 contexts, tokens, cookies, passwords) must never reach a log,
 * a job name, the dashboard, an error message or ascp's argv. Two layers make that hold by
 * construction rather than by care at each call site:
 *  1. shapes: query parameters, headers and fields whose names mark them as secret;
 *  2. values: every secret the process learns is registered, and any text containing it is
 *     masked wherever it appears, whatever the shape around it.
 */
export const MASK = '***';

const SECRET_KEY = /^(password|passwd|pass|passcode|token|access_token|refresh_token|id_token|cookie|authorization|context|secret|client_secret|api_key|apikey|aspera_scp_token|aspera_scp_cookie|aspera_scp_pass|aspera_scp_filepass|aspera_scp_key|x-aspera-ac-token)$/i;
const SECRET_QUERY = /([?&;](?:passcode|token|cookie|context|access_token|refresh_token|code|password|state|sig|signature)=)[^&#\s"'<>]*/gi;
const AUTH_HEADER = /\b(authorization\s*[:=]\s*(?:basic|bearer)\s+)[A-Za-z0-9+/=._~-]+/gi;
const ENV_ASSIGN = /\b(ASPERA_SCP_(?:TOKEN|COOKIE|PASS|FILEPASS|KEY)\s*=\s*)(?:'[^']*'|"[^"]*"|\S+)/g;
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]+):([^/@\s]+)@/gi;
const MIN_SECRET_LENGTH = 4;
const MAX_REGISTERED = 5000;

// Registered values in insertion order (the oldest is forgotten first), and indexed by a number
// computed from their first MIN_SECRET_LENGTH characters. One alternation regex over thousands of
// values (every mail's passcode is registered) was rebuilt after each registration and scanned
// every logged string against all of them: the mail listener spent most of its CPU there. A
// string key per position (a slice each) still made every logged character an allocation; the
// numeric key costs four multiplications and a map lookup, and allocates nothing.
const registered = new Set<string>();
const byPrefix = new Map<number, string[]>();

/** Remember a secret value so that every later output masks it. */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < MIN_SECRET_LENGTH || registered.has(value)) return;
  if (registered.size >= MAX_REGISTERED) {
    // Forget the oldest: the shape rules still cover the usual places.
    const oldest = registered.values().next().value;
    if (oldest !== undefined) forget(oldest);
  }
  remember(value);
  // Encoded forms appear in URLs and XML.
  const encoded = encodeURIComponent(value);
  if (encoded !== value) remember(encoded);
}

/** The index key of the MIN_SECRET_LENGTH characters at `at` (collisions are resolved by startsWith). */
function prefixKey(text: string, at: number): number {
  // FNV-1a over the four UTF-16 units: a small integer, which V8 keeps unboxed
  let h = 0x811c9dc5;
  for (let k = at; k < at + MIN_SECRET_LENGTH; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  return h | 0;
}

function remember(value: string): void {
  if (registered.has(value)) return;
  registered.add(value);
  const key = prefixKey(value, 0);
  const list = byPrefix.get(key) ?? [];
  // longest first, as the alternation was: a value that extends another is masked whole
  list.push(value);
  list.sort((a, b) => b.length - a.length);
  byPrefix.set(key, list);
}

function forget(value: string): void {
  registered.delete(value);
  const key = prefixKey(value, 0);
  const list = byPrefix.get(key)?.filter((v) => v !== value);
  if (list?.length) byPrefix.set(key, list);
  else byPrefix.delete(key);
}

/** Every registered value in `text` replaced, leftmost first, longest first at one position. */
function maskRegistered(text: string): string {
  if (byPrefix.size === 0) return text;
  let out = '';
  let last = 0;
  for (let i = 0; i + MIN_SECRET_LENGTH <= text.length; ) {
    const candidates = byPrefix.get(prefixKey(text, i));
    const hit = candidates?.find((v) => text.startsWith(v, i));
    if (hit === undefined) {
      i++;
      continue;
    }
    out += text.slice(last, i) + MASK;
    i += hit.length;
    last = i;
  }
  return last === 0 ? text : out + text.slice(last);
}

const AUTH_WORD = /authorization/i;

export function maskText(text: string): string {
  // Each shape has a character it cannot match without; a string that has none of them (most
  // logged strings) skips the regex, which allocates even when it replaces nothing.
  let out = text;
  if (out.includes('=')) out = out.replace(SECRET_QUERY, `$1${MASK}`).replace(ENV_ASSIGN, `$1${MASK}`);
  if (AUTH_WORD.test(out)) out = out.replace(AUTH_HEADER, `$1${MASK}`);
  if (out.includes('@')) out = out.replace(URL_USERINFO, `$1$2:${MASK}@`);
  return maskRegistered(out);
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * `value` with secret-named fields replaced and every string masked: a copy wherever something
 * was replaced, the same array or object where nothing was (every log line passes through here,
 * and most have nothing to mask). `value` itself is never changed.
 */
export function maskDeep<T>(value: T, depth = 0): T {
  if (depth > 12) return value;
  if (typeof value === 'string') return maskText(value) as T;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const masked = maskDeep(value[i] as unknown, depth + 1);
      if (masked !== value[i]) (out ??= value.slice())[i] = masked;
    }
    return (out ?? value) as T;
  }
  if (value instanceof Error) return maskError(value) as T;
  if (value && typeof value === 'object' && isPlainObject(value)) {
    let out: Record<string, unknown> | undefined;
    for (const k in value) {
      if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
      const v = (value as Record<string, unknown>)[k];
      const masked = isSecretKey(k) && v !== null && v !== undefined && v !== '' ? MASK : maskDeep(v, depth + 1);
      if (masked !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = masked;
    }
    return (out ?? value) as T;
  }
  return value;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function maskError(err: Error): Error {
  const copy = new Error(maskText(err.message));
  copy.name = err.name;
  copy.stack = err.stack ? maskText(err.stack) : undefined;
  for (const [k, v] of Object.entries(err)) {
    (copy as unknown as Record<string, unknown>)[k] = isSecretKey(k) ? MASK : maskDeep(v, 1);
  }
  return copy;
}

/** A link as people may see it: passcode, context and token values replaced by ***. */
export function maskLink(link: string): string {
  return maskText(link);
}
