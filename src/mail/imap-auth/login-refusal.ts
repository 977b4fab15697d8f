/**
 * Which connection failures are the server refusing the login, and the reason in the server's
 * own words (pure). imapflow marks them `authenticationFailed` (a tagged NO/BAD to LOGIN or
 * AUTHENTICATE, or Exchange's "User is authenticated but not connected"), with the server's
 * text in `response`, its code in `serverResponseCode` and, for OAuth, the JSON of the SASL
 * challenge in `oauthError` (e.g. {"status":"invalid_token"}).
 */
export const LOGIN_REFUSED = 'mailbox login refused';

interface ImapAuthError {
  authenticationFailed?: unknown;
  response?: unknown;
  serverResponseCode?: unknown;
  oauthError?: unknown;
  message?: unknown;
}

/** The server's reason when `err` is a refused login, else undefined. */
export function serverRefusal(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as ImapAuthError;
  if (e.authenticationFailed !== true) return undefined;
  // imapflow's `response` is the tagged line: "2 NO [AUTHENTICATIONFAILED] Authentication failed."
  const response = typeof e.response === 'string' ? e.response.trim().replace(/^[A-Za-z0-9.]+ (?:NO|BAD) /, '') : '';
  const text = response || (typeof e.message === 'string' && e.message ? e.message : 'authentication failed');
  const code = typeof e.serverResponseCode === 'string' && !text.includes(e.serverResponseCode) ? `[${e.serverResponseCode}] ` : '';
  const oauth = oauthStatus(e.oauthError);
  return flat(`${code}${text}${oauth && !text.includes(oauth) ? ` (${oauth})` : ''}`);
}

function oauthStatus(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const parts = [v.status, v.error, v.error_description].filter((x): x is string => typeof x === 'string' && x !== '');
  return parts.length ? parts.join(': ') : undefined;
}

/** "mailbox login refused: <reason>", the one wording of /healthz, the status and the logs. */
export function refusalMessage(reason: string): string {
  return `${LOGIN_REFUSED}: ${reason}`;
}

function flat(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 300 ? `${one.slice(0, 300)}…` : one;
}
