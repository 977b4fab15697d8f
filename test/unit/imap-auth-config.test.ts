import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { describeImapAuth, parseImapAuth, secretsOf, type ImapAuthFields } from '../../src/mail/imap-auth/auth-config.js';

const MS = { auth: 'oauth2', user: 'ingest@contoso.com', provider: 'microsoft', tenant: 'contoso.onmicrosoft.com', clientId: 'app-id' };

describe('parseImapAuth', () => {
  it.each<[string, ImapAuthFields, unknown]>([
    ['password is the default', { user: 'u', password: 'p' }, { kind: 'password', user: 'u', password: 'p' }],
    ['microsoft with a client secret: Entra\'s token URL and the Exchange scope by default', { ...MS, clientSecret: 's3cret' }, {
      kind: 'oauth2', user: 'ingest@contoso.com',
      provider: {
        name: 'microsoft', tenant: 'contoso.onmicrosoft.com', clientId: 'app-id', credential: { kind: 'secret', clientSecret: 's3cret' },
        tokenUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token', scope: 'https://outlook.office365.com/.default',
      },
    }],
    ['microsoft with a certificate whose file holds the key too', { ...MS, certificateFile: '/k/app.pem' }, {
      provider: { credential: { kind: 'certificate', certificateFile: '/k/app.pem', keyFile: '/k/app.pem' } },
    }],
    ['microsoft in a sovereign cloud: token URL and scope set', { ...MS, certificateFile: '/k/c.pem', keyFile: '/k/k.pem', tokenUrl: 'https://login.microsoftonline.us/t/oauth2/v2.0/token', scope: 'https://outlook.office365.us/.default' }, {
      provider: { tokenUrl: 'https://login.microsoftonline.us/t/oauth2/v2.0/token', scope: 'https://outlook.office365.us/.default', credential: { keyFile: '/k/k.pem' } },
    }],
    ['google: the key file; token URL left to the key file', { auth: 'oauth2', user: 'in@example.com', provider: 'Google', keyFile: '/k/sa.json' }, {
      kind: 'oauth2', provider: { name: 'google', keyFile: '/k/sa.json', tokenUrl: undefined, scope: 'https://mail.google.com/' },
    }],
    ['refresh token, public client (no secret), no scope', { auth: 'OAuth2', user: 'me@example.org', provider: 'refresh-token', tokenUrl: 'https://idp.example.org/token', clientId: 'c', refreshToken: 'rt-1' }, {
      provider: { name: 'refresh-token', tokenUrl: 'https://idp.example.org/token', clientId: 'c', clientSecret: undefined, refreshToken: 'rt-1', scope: undefined },
    }],
  ])('%s', (_name, fields, expected) => {
    const parsed = parseImapAuth(fields);
    expect(parsed).toMatchObject({ ok: true, auth: expected });
  });

  it.each<[string, ImapAuthFields, string[]]>([
    ['no password', { user: 'u' }, ['IMAP_PASSWORD is required with IMAP_AUTH=password']],
    ['OAuth settings with a password login', { user: 'u', password: 'p', clientId: 'x' }, ['IMAP_OAUTH_CLIENT_ID is not used with IMAP_AUTH=password; remove it']],
    ['unknown mode', { auth: 'kerberos', user: 'u' }, ['IMAP_AUTH: expected password or oauth2, got "kerberos"']],
    ['no provider', { auth: 'oauth2', user: 'u' }, ['IMAP_OAUTH_PROVIDER is required with IMAP_AUTH=oauth2 (microsoft, google or refresh-token)']],
    ['unknown provider', { auth: 'oauth2', user: 'u', provider: 'yahoo' }, ['IMAP_OAUTH_PROVIDER: expected microsoft, google or refresh-token, got "yahoo"']],
    ['microsoft without tenant, client or credential', { auth: 'oauth2', user: 'u@x', provider: 'microsoft' }, [
      expect.stringMatching(/^IMAP_OAUTH_TENANT is required with IMAP_OAUTH_PROVIDER=microsoft/),
      expect.stringMatching(/^IMAP_OAUTH_CLIENT_ID is required with IMAP_OAUTH_PROVIDER=microsoft/),
      'IMAP_OAUTH_CLIENT_SECRET or IMAP_OAUTH_CERTIFICATE_FILE (with IMAP_OAUTH_KEY_FILE) is required with IMAP_OAUTH_PROVIDER=microsoft',
    ] as never],
    ['microsoft with both a secret and a certificate', { ...MS, clientSecret: 's', certificateFile: '/c' }, [
      'IMAP_OAUTH_CLIENT_SECRET and IMAP_OAUTH_CERTIFICATE_FILE are two ways to prove the app\'s identity: set one',
    ]],
    ['a plain-http token URL', { ...MS, clientSecret: 's', tokenUrl: 'http://login.example/token' }, ['IMAP_OAUTH_TOKEN_URL: the token endpoint must be https://, got http://']],
    ['a password with oauth2', { ...MS, clientSecret: 's', password: 'p' }, ['IMAP_PASSWORD is not used with IMAP_AUTH=oauth2 (the token is the password); remove it']],
    ['oauth2 without the mailbox', { ...MS, user: '', clientSecret: 's' }, ['IMAP_USER is required with IMAP_AUTH=oauth2: the mailbox address']],
    ['google without a key file, with a client id', { auth: 'oauth2', user: 'u@x', provider: 'google', clientId: 'c' }, [
      expect.stringMatching(/^IMAP_OAUTH_KEY_FILE is required with IMAP_OAUTH_PROVIDER=google/),
      expect.stringMatching(/^IMAP_OAUTH_CLIENT_ID is not used with IMAP_OAUTH_PROVIDER=google/),
    ] as never],
    ['refresh-token without URL, client or token', { auth: 'oauth2', user: 'u@x', provider: 'refresh-token' }, [
      expect.stringMatching(/^IMAP_OAUTH_TOKEN_URL is required with IMAP_OAUTH_PROVIDER=refresh-token/),
      'IMAP_OAUTH_CLIENT_ID is required with IMAP_OAUTH_PROVIDER=refresh-token',
      expect.stringMatching(/^IMAP_OAUTH_REFRESH_TOKEN is required with IMAP_OAUTH_PROVIDER=refresh-token/),
    ] as never],
  ])('refuses %s, naming the variable', (_name, fields, expected) => {
    const parsed = parseImapAuth(fields);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.problems).toEqual(expected);
  });

  it('names fields as the caller labels them (one entry of a mailboxes file)', () => {
    const parsed = parseImapAuth({ auth: 'oauth2', user: 'a@x', provider: 'microsoft', tenant: 't', clientId: 'c' }, { label: (f) => `mailboxes[2].${f}` });
    expect(parsed).toEqual({ ok: false, problems: ['mailboxes[2].clientSecret or mailboxes[2].certificateFile (with mailboxes[2].keyFile) is required with mailboxes[2].provider=microsoft'] });
  });

  it('lists its secrets for the registry and describes itself without them', () => {
    const parsed = parseImapAuth({ auth: 'oauth2', user: 'me@x', provider: 'refresh-token', tokenUrl: 'https://idp.example/t', clientId: 'cid', clientSecret: 'cs-1', refreshToken: 'rt-1' });
    if (!parsed.ok) throw new Error(parsed.problems.join());
    expect(secretsOf(parsed.auth).sort()).toEqual(['cs-1', 'rt-1']);
    expect(describeImapAuth(parsed.auth)).toBe('OAuth2 (refresh token of client cid, idp.example)');
  });
});

describe('loadConfig: IMAP login and TLS', () => {
  const base = { FASPEX_ALLOWED_HOSTS: 'faspex.example.com', IMAP_HOST: 'outlook.office365.com', IMAP_USER: 'ingest@contoso.com' };
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env, 'listen', '/srv');
      return [];
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems;
    }
  };

  it('oauth2 needs no IMAP_PASSWORD; files resolve against the working directory', () => {
    const c = loadConfig({ ...base, IMAP_AUTH: 'oauth2', IMAP_OAUTH_PROVIDER: 'microsoft', IMAP_OAUTH_TENANT: 't', IMAP_OAUTH_CLIENT_ID: 'c', IMAP_OAUTH_CERTIFICATE_FILE: 'keys/app.pem', IMAP_CA_FILE: 'ca.pem' }, 'listen', '/srv');
    expect(c.imap?.auth).toMatchObject({ kind: 'oauth2', user: 'ingest@contoso.com', provider: { credential: { certificateFile: '/srv/keys/app.pem', keyFile: '/srv/keys/app.pem' } } });
    expect(c.imap?.tls).toEqual({ caFile: '/srv/ca.pem', insecure: false });
  });

  it('password login as before', () => {
    expect(loadConfig({ ...base, IMAP_PASSWORD: 'pw' }, 'listen', '/srv').imap?.auth).toEqual({ kind: 'password', user: 'ingest@contoso.com', password: 'pw' });
    expect(problems(base)).toEqual([expect.stringMatching(/^IMAP_PASSWORD is required for `listen`/)]);
  });

  it('names what a provider lacks, once, and never echoes a secret', () => {
    expect(problems({ ...base, IMAP_AUTH: 'oauth2', IMAP_OAUTH_PROVIDER: 'refresh-token', IMAP_OAUTH_CLIENT_SECRET: 'cs-secret-value' })).toEqual([
      expect.stringMatching(/^IMAP_OAUTH_TOKEN_URL is required/),
      'IMAP_OAUTH_CLIENT_ID is required with IMAP_OAUTH_PROVIDER=refresh-token',
      expect.stringMatching(/^IMAP_OAUTH_REFRESH_TOKEN is required/),
    ]);
    expect(problems({ ...base, IMAP_AUTH: 'oauth2', IMAP_OAUTH_PROVIDER: 'nope' })).toEqual(['IMAP_OAUTH_PROVIDER: expected microsoft, google or refresh-token, got "nope"']);
    expect(problems({ ...base, IMAP_PASSWORD: 'x', IMAP_INSECURE_TLS: 'sometimes' })).toEqual(['IMAP_INSECURE_TLS: expected true or false, got "sometimes"']);
  });
});
