/**
 * How the service logs in to one mailbox: a self-contained, typed value and its pure parser.
 *
 * `parseImapAuth` takes the raw fields of one mailbox (strings as written by the operator) and
 * returns either an `ImapAuth` or the list of problems, each naming the field through `label`.
 * It reads no file and no environment, so the same parser serves the IMAP_* variables
 * (config.ts passes IMAP_* names as labels) and any other source of mailbox definitions, such as
 * one entry of a mailboxes file (pass that file's key names as labels). Key and certificate files
 * are only named here; token-source.ts reads them when the listener starts.
 *
 *   password                 user + password (LOGIN / AUTHENTICATE PLAIN)
 *   oauth2 / microsoft       Entra ID app-only client credentials: tenant, client id and either a
 *                            client secret or a certificate (+ its private key) for a signed
 *                            client assertion; scope https://outlook.office365.com/.default
 *   oauth2 / google          service account with domain-wide delegation: its JSON key file;
 *                            the mailbox (user) is the JWT's `sub`; scope https://mail.google.com/
 *   oauth2 / refresh-token   any provider: token URL, client id, optional secret, refresh token
 *
 * In every oauth2 form the IMAP user is the mailbox address.
 */

export type OAuthProviderName = 'microsoft' | 'google' | 'refresh-token';

export type MicrosoftCredential =
  | { kind: 'secret'; clientSecret: string }
  /** keyFile may be the certificate file itself when it holds the private key too */
  | { kind: 'certificate'; certificateFile: string; keyFile: string };

export type OAuthProvider =
  | { name: 'microsoft'; tenant: string; clientId: string; credential: MicrosoftCredential; tokenUrl: string; scope: string }
  /** tokenUrl undefined: the key file's token_uri, else Google's */
  | { name: 'google'; keyFile: string; tokenUrl: string | undefined; scope: string }
  | { name: 'refresh-token'; tokenUrl: string; clientId: string; clientSecret: string | undefined; refreshToken: string; scope: string | undefined };

export type ImapAuth =
  | { kind: 'password'; user: string; password: string }
  | { kind: 'oauth2'; user: string; provider: OAuthProvider };

/** One mailbox's raw settings, as the operator wrote them; everything optional, nothing parsed. */
export interface ImapAuthFields {
  auth?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  provider?: string | undefined;
  tenant?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  certificateFile?: string | undefined;
  keyFile?: string | undefined;
  tokenUrl?: string | undefined;
  scope?: string | undefined;
  refreshToken?: string | undefined;
}

export type ImapAuthField = keyof ImapAuthFields;

/** The IMAP_* variable of each field: the labels config.ts uses. */
export const IMAP_AUTH_VARIABLES: Record<ImapAuthField, string> = {
  auth: 'IMAP_AUTH',
  user: 'IMAP_USER',
  password: 'IMAP_PASSWORD',
  provider: 'IMAP_OAUTH_PROVIDER',
  tenant: 'IMAP_OAUTH_TENANT',
  clientId: 'IMAP_OAUTH_CLIENT_ID',
  clientSecret: 'IMAP_OAUTH_CLIENT_SECRET',
  certificateFile: 'IMAP_OAUTH_CERTIFICATE_FILE',
  keyFile: 'IMAP_OAUTH_KEY_FILE',
  tokenUrl: 'IMAP_OAUTH_TOKEN_URL',
  scope: 'IMAP_OAUTH_SCOPE',
  refreshToken: 'IMAP_OAUTH_REFRESH_TOKEN',
};

export const MICROSOFT_SCOPE = 'https://outlook.office365.com/.default';
export const GOOGLE_SCOPE = 'https://mail.google.com/';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** Entra's global cloud; sovereign clouds (login.microsoftonline.us, login.partner.microsoftonline.cn) set the token URL. */
export const microsoftTokenUrl = (tenant: string) => `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;

export type ParsedImapAuth = { ok: true; auth: ImapAuth } | { ok: false; problems: string[] };

export interface ParseImapAuthOptions {
  /** how a field is named in messages; default: its IMAP_* variable */
  label?: (field: ImapAuthField) => string;
  /** false: a missing password is not a problem (roles that never log in) */
  requirePassword?: boolean;
}

export function parseImapAuth(fields: ImapAuthFields, options: ParseImapAuthOptions = {}): ParsedImapAuth {
  const label = options.label ?? ((f: ImapAuthField) => IMAP_AUTH_VARIABLES[f]);
  const problems: string[] = [];
  const get = (f: ImapAuthField): string | undefined => {
    const v = fields[f]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const need = (f: ImapAuthField, why: string): string => {
    const v = get(f);
    if (v === undefined) problems.push(`${label(f)} is required ${why}`);
    return v ?? '';
  };
  const unused = (why: string, ...names: ImapAuthField[]) => {
    for (const f of names) if (get(f) !== undefined) problems.push(`${label(f)} is not used ${why}; remove it`);
  };
  const httpsUrl = (f: ImapAuthField): string | undefined => {
    const raw = get(f);
    if (raw === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      problems.push(`${label(f)}: expected an https:// URL, got "${raw}"`);
      return undefined;
    }
    if (url.protocol !== 'https:') problems.push(`${label(f)}: the token endpoint must be https://, got ${url.protocol}//`);
    if (url.username || url.password) problems.push(`${label(f)}: put no user name or password in the URL`);
    return url.toString();
  };

  const mode = (get('auth') ?? 'password').toLowerCase();
  const user = get('user') ?? '';
  if (mode === 'password') {
    const password = fields.password ?? '';
    if (password === '' && options.requirePassword !== false) problems.push(`${label('password')} is required with ${label('auth')}=password`);
    unused(`with ${label('auth')}=password`, 'provider', 'tenant', 'clientId', 'clientSecret', 'certificateFile', 'keyFile', 'tokenUrl', 'scope', 'refreshToken');
    return problems.length ? { ok: false, problems } : { ok: true, auth: { kind: 'password', user, password } };
  }
  if (mode !== 'oauth2') return { ok: false, problems: [`${label('auth')}: expected password or oauth2, got "${fields.auth}"`] };
  unused(`with ${label('auth')}=oauth2 (the token is the password)`, 'password');

  const providerRaw = get('provider')?.toLowerCase();
  const providerWhy = `with ${label('auth')}=oauth2`;
  let provider: OAuthProvider | undefined;
  if (providerRaw === undefined) {
    problems.push(`${label('provider')} is required ${providerWhy} (microsoft, google or refresh-token)`);
  } else if (providerRaw === 'microsoft') {
    const why = `with ${label('provider')}=microsoft`;
    const tenant = need('tenant', `${why} (the directory (tenant) id or a verified domain of the Entra tenant)`);
    const clientId = need('clientId', `${why} (the application (client) id of the app registration)`);
    const secret = get('clientSecret');
    const cert = get('certificateFile');
    let credential: MicrosoftCredential | undefined;
    if (secret !== undefined && cert !== undefined) {
      problems.push(`${label('clientSecret')} and ${label('certificateFile')} are two ways to prove the app's identity: set one`);
    } else if (secret !== undefined) {
      unused(`with ${label('clientSecret')}`, 'keyFile');
      credential = { kind: 'secret', clientSecret: fields.clientSecret!.trim() };
    } else if (cert !== undefined) {
      credential = { kind: 'certificate', certificateFile: cert, keyFile: get('keyFile') ?? cert };
    } else {
      problems.push(`${label('clientSecret')} or ${label('certificateFile')} (with ${label('keyFile')}) is required ${why}`);
    }
    unused(why, 'refreshToken');
    const tokenUrl = httpsUrl('tokenUrl') ?? microsoftTokenUrl(tenant);
    if (credential) provider = { name: 'microsoft', tenant, clientId, credential, tokenUrl, scope: get('scope') ?? MICROSOFT_SCOPE };
  } else if (providerRaw === 'google') {
    const why = `with ${label('provider')}=google`;
    const keyFile = need('keyFile', `${why} (the service account's JSON key file)`);
    unused(`${why} (the service account's key file holds its identity)`, 'tenant', 'clientId', 'clientSecret', 'certificateFile', 'refreshToken');
    provider = { name: 'google', keyFile, tokenUrl: httpsUrl('tokenUrl'), scope: get('scope') ?? GOOGLE_SCOPE };
  } else if (providerRaw === 'refresh-token') {
    const why = `with ${label('provider')}=refresh-token`;
    const tokenUrl = httpsUrl('tokenUrl');
    if (get('tokenUrl') === undefined) problems.push(`${label('tokenUrl')} is required ${why} (the provider's token endpoint)`);
    const clientId = need('clientId', why);
    const refreshToken = need('refreshToken', `${why} (a refresh token granted to that client for this mailbox)`);
    unused(why, 'tenant', 'certificateFile', 'keyFile');
    if (tokenUrl) provider = { name: 'refresh-token', tokenUrl, clientId, clientSecret: get('clientSecret'), refreshToken, scope: get('scope') };
  } else {
    problems.push(`${label('provider')}: expected microsoft, google or refresh-token, got "${fields.provider}"`);
  }
  if (user === '') problems.push(`${label('user')} is required ${providerWhy}: the mailbox address`);
  if (problems.length || !provider) return { ok: false, problems };
  return { ok: true, auth: { kind: 'oauth2', user, provider } };
}

/** Every secret value in the config, for the secrets registry: the caller registers them. */
export function secretsOf(auth: ImapAuth): string[] {
  if (auth.kind === 'password') return [auth.password];
  const p = auth.provider;
  if (p.name === 'microsoft') return p.credential.kind === 'secret' ? [p.credential.clientSecret] : [];
  if (p.name === 'refresh-token') return [p.refreshToken, ...(p.clientSecret ? [p.clientSecret] : [])];
  return [];
}

/** One line for logs and status: which login, never a secret. */
export function describeImapAuth(auth: ImapAuth): string {
  if (auth.kind === 'password') return 'password';
  const p = auth.provider;
  const host = (u: string | undefined) => (u ? new URL(u).host : 'the key file\'s token_uri');
  if (p.name === 'microsoft') return `OAuth2 (Microsoft Entra app ${p.clientId}, ${p.credential.kind === 'secret' ? 'client secret' : 'certificate'}, ${host(p.tokenUrl)})`;
  if (p.name === 'google') return `OAuth2 (Google service account, ${host(p.tokenUrl)})`;
  return `OAuth2 (refresh token of client ${p.clientId}, ${host(p.tokenUrl)})`;
}
