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

const registered = new Set<string>();
let registeredPattern: RegExp | undefined;

/** Remember a secret value so that every later output masks it. */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < MIN_SECRET_LENGTH || registered.has(value)) return;
  if (registered.size >= MAX_REGISTERED) {
    // Forget the oldest: the shape rules still cover the usual places.
    const oldest = registered.values().next().value;
    if (oldest !== undefined) registered.delete(oldest);
  }
  registered.add(value);
  // Encoded forms appear in URLs and XML.
  const encoded = encodeURIComponent(value);
  if (encoded !== value) registered.add(encoded);
  registeredPattern = undefined;
}

function pattern(): RegExp | undefined {
  if (registered.size === 0) return undefined;
  if (!registeredPattern) {
    const alternatives = [...registered].sort((a, b) => b.length - a.length).map(escapeRegExp);
    registeredPattern = new RegExp(alternatives.join('|'), 'g');
  }
  return registeredPattern;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function maskText(text: string): string {
  let out = text
    .replace(SECRET_QUERY, `$1${MASK}`)
    .replace(AUTH_HEADER, `$1${MASK}`)
    .replace(ENV_ASSIGN, `$1${MASK}`)
    .replace(URL_USERINFO, `$1$2:${MASK}@`);
  const p = pattern();
  if (p) out = out.replace(p, MASK);
  return out;
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A copy of `value` with secret-named fields replaced and every string masked. */
export function maskDeep<T>(value: T, depth = 0): T {
  if (depth > 12) return value;
  if (typeof value === 'string') return maskText(value) as T;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1)) as T;
  if (value instanceof Error) return maskError(value) as T;
  if (value && typeof value === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v !== null && v !== undefined && v !== '' ? MASK : maskDeep(v, depth + 1);
    }
    return out as T;
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
