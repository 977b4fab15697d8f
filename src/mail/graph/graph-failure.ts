/**
 * What a failure of a Graph mailbox means, in words a person acts on (pure): the state /healthz
 * and the packages page show, whether to wait as the server asks, and whether the delta link
 * must be given up for a full resync.
 */
import { LoginRefused, TokenUnavailable } from '../imap-auth/token-source.js';
import { KeyMaterialError } from '../imap-auth/key-material.js';
import type { SourceFailure } from '../mail-source.js';
import { GraphError } from './graph-client.js';

/** Graph without a Retry-After on a 429 (rare): wait this long rather than hammer it. */
const DEFAULT_THROTTLE_MS = 30_000;

export function graphFailure(err: unknown, mailbox: string, token?: string): SourceFailure {
  if (err instanceof LoginRefused) {
    return { reason: `the token endpoint refused the app's credentials (${err.reason}): a revoked or expired client secret or certificate, a deleted app or withdrawn consent; see docs/mailbox-oauth.md "Microsoft Graph"`, renewLogin: true };
  }
  if (err instanceof TokenUnavailable) return { reason: `no access token: ${err.message}` };
  if (err instanceof KeyMaterialError) return { reason: err.message };
  if (!(err instanceof GraphError)) return { reason: `Microsoft Graph cannot be reached: ${err instanceof Error ? err.message : String(err)}` };
  const { status, code } = err;
  const said = `HTTP ${status}${code ? ` ${code}` : ''}${err.graphMessage ? `: ${err.graphMessage}` : ''}`;
  if (status === 410 || /^(syncStateNotFound|syncStateInvalid|resyncRequired|ErrorInvalidSyncStateData)$/i.test(code)) {
    return { reason: `the delta link expired (${said}): reading the folder again from the start; mail already handled is known by its category and by Redis, and is not queued again`, resync: true };
  }
  if (status === 429 || ((status === 503 || status === 504) && err.retryAfterMs !== undefined)) {
    const ms = err.retryAfterMs ?? DEFAULT_THROTTLE_MS;
    return { reason: `Microsoft Graph throttled this mailbox (${said}): waiting ${Math.ceil(ms / 1000)} s as its Retry-After asks`, retryInMs: ms };
  }
  if (status === 401) return { reason: `Microsoft Graph refused the access token (${said}): check GRAPH_TENANT and that the token is for https://graph.microsoft.com`, renewLogin: true };
  if (status === 403) {
    if (/AccessPolicy|RAOP/i.test(err.graphMessage)) {
      return { reason: `the tenant's application access policy does not let this app read ${mailbox} (${said}): add the mailbox to the policy's group (New-ApplicationAccessPolicy, Test-ApplicationAccessPolicy) or its RBAC for Applications scope` };
    }
    const roles = rolesOf(token);
    if (roles !== undefined && !roles.some((r) => /^Mail\.ReadWrite/i.test(r))) {
      return { reason: `the app's access token carries no Mail.ReadWrite role (${roles.length ? `only ${roles.join(', ')}` : 'no role at all'}; ${said}): grant the application permission Mail.ReadWrite and admin consent, or consent was revoked`, renewLogin: true };
    }
    return { reason: `Microsoft Graph denied access to ${mailbox} (${said}): the app needs Mail.ReadWrite (application) with admin consent, and the mailbox within its access policy` };
  }
  if (status === 404) return { reason: `${mailbox} or its folder was not found (${said}): check GRAPH_MAILBOX and GRAPH_FOLDER` };
  return { reason: `Microsoft Graph failed (${said})`, ...(err.retryAfterMs !== undefined ? { retryInMs: err.retryAfterMs } : {}) };
}

/** The `roles` claim of a JWT access token, unverified (for a message only); undefined when not a JWT. */
export function rolesOf(token: string | undefined): string[] | undefined {
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return undefined;
  }
}
