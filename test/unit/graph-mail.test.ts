import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { LoginRefused } from '../../src/mail/imap-auth/token-source.js';
import { GraphError } from '../../src/mail/graph/graph-client.js';
import { graphFailure, rolesOf } from '../../src/mail/graph/graph-failure.js';
import { renderGraphMessage } from '../../src/mail/graph/graph-mime.js';
import { decideMail } from '../../src/mail/decide.js';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { parseGraphInbox } from '../../src/config/graph-inbox.js';

const jwt = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const LINK = 'https://faspex.example.com/aspera/faspex/external_deliveries/4822?passcode=c0ffee0123456789abcdef0123456789abcdef01';

describe('renderGraphMessage: a Graph message as the MIME decide.ts reads', () => {
  it('keeps the original header fields (Authentication-Results for the sender policy), re-encodes the body', async () => {
    const raw = renderGraphMessage({
      subject: 'ignored: the header wins', body: { contentType: 'html', content: `<p>Grüße <a href="${LINK.replace(/&/g, '&amp;')}">Download</a></p>` },
      internetMessageHeaders: [{ name: 'From', value: 'Faspex <faspex@faspex.example.com>' }, { name: 'Subject', value: 'Package received' }, { name: 'Authentication-Results', value: 'mx.contoso.example; dmarc=pass header.from=faspex.example.com' }, { name: 'Content-Type', value: 'multipart/alternative; boundary=x' }],
    });
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe('Package received');
    expect(parsed.from?.value[0]?.address).toBe('faspex@faspex.example.com');
    expect(parsed.headers.get('authentication-results')).toMatch(/dmarc=pass/);
    expect(parsed.html).toContain('Grüße');
  });

  it('synthesises From, Subject, Message-ID and Date from the properties, and keeps CR/LF out of header lines', async () => {
    const raw = renderGraphMessage({ subject: 'Paket für dich\r\nBcc: evil@example.com', internetMessageId: '<m1@x>', from: { emailAddress: { name: 'Fa"spex', address: 'faspex@faspex.example.com' } }, receivedDateTime: '2026-12-07T03:00:00Z', body: { contentType: 'text', content: LINK } });
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe('Paket für dich Bcc: evil@example.com');
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(parsed.messageId).toBe('<m1@x>');
    expect(parsed.date?.toISOString()).toBe('2026-12-07T03:00:00.000Z');
    expect(parsed.text).toContain('passcode=c0ffee');
  });

  it('renders attached messages as message/rfc822, so a forwarded notification yields its link through the one decision', async () => {
    const raw = renderGraphMessage({ subject: 'Fw: package', from: { emailAddress: { address: 'producer@contoso.example' } }, body: { contentType: 'html', content: '<p>see attached</p>' } }, [
      { subject: 'Package received', from: { emailAddress: { address: 'faspex@faspex.example.com' } }, body: { contentType: 'html', content: `<a href="${LINK.replace(/&/g, '&amp;')}">Download</a>` } },
    ]);
    const decision = await decideMail(raw, { allowlist: parseAllowlist('faspex.example.com') });
    expect(decision.kind).toBe('links');
    expect(decision.links).toHaveLength(1);
  });
});

describe('graphFailure: each failure a clear state', () => {
  const cases: Array<[string, unknown, string | undefined, RegExp, Record<string, unknown>]> = [
    ['throttled', new GraphError(429, 'ApplicationThrottled', 'over its MailboxConcurrency limit', 7000, '/x'), undefined, /throttled this mailbox.*waiting 7 s/, { retryInMs: 7000 }],
    ['throttled without Retry-After', new GraphError(429, 'TooManyRequests', '', undefined, '/x'), undefined, /waiting 30 s/, { retryInMs: 30_000 }],
    ['expired delta link', new GraphError(410, 'SyncStateNotFound', 'gone', undefined, '/x'), undefined, /delta link expired/, { resync: true }],
    ['resyncRequired as a code', new GraphError(400, 'resyncRequired', '', undefined, '/x'), undefined, /delta link expired/, { resync: true }],
    ['access policy', new GraphError(403, 'ErrorAccessDenied', 'Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.', undefined, '/x'), jwt({ roles: ['Mail.ReadWrite'] }), /application access policy does not let this app read a@b/, {}],
    ['no role', new GraphError(403, 'ErrorAccessDenied', 'Access is denied.', undefined, '/x'), jwt({ roles: [] }), /carries no Mail\.ReadWrite role \(no role at all/, { renewLogin: true }],
    ['other roles', new GraphError(403, 'ErrorAccessDenied', 'Access is denied.', undefined, '/x'), jwt({ roles: ['User.Read.All'] }), /only User\.Read\.All/, {}],
    ['403 with the role', new GraphError(403, 'ErrorAccessDenied', 'Access is denied.', undefined, '/x'), jwt({ roles: ['Mail.ReadWrite'] }), /denied access to a@b/, {}],
    ['401', new GraphError(401, 'InvalidAuthenticationToken', 'Invalid audience.', undefined, '/x'), undefined, /refused the access token.*Invalid audience/, { renewLogin: true }],
    ['revoked secret', new LoginRefused('invalid_client: AADSTS7000222: expired'), undefined, /token endpoint refused the app's credentials \(invalid_client/, { renewLogin: true }],
    ['no mailbox', new GraphError(404, 'ErrorInvalidUser', "The requested user 'a@b' is invalid.", undefined, '/x'), undefined, /not found.*GRAPH_MAILBOX/, {}],
    ['network', new Error('connect ECONNREFUSED'), undefined, /cannot be reached: connect ECONNREFUSED/, {}],
  ];
  it.each(cases)('%s', (_name, err, token, reason, extra) => {
    const f = graphFailure(err, 'a@b', token);
    expect(f.reason).toMatch(reason);
    expect(f).toMatchObject(extra);
  });

  it('reads roles only from a JWT', () => {
    expect(rolesOf('opaque-token')).toBeUndefined();
    expect(rolesOf(jwt({ roles: ['Mail.Read'] }))).toEqual(['Mail.Read']);
  });
});

describe('parseGraphInbox: the GRAPH_* fields through the IMAP OAuth parser', () => {
  const base = { folder: 'Inbox', pollSeconds: 10, markKeyword: true };
  it('builds an app-only Entra login with Graph\'s scope and the tenant\'s token URL', () => {
    const r = parseGraphInbox({ ...base, mailbox: 'drop@contoso.example', tenant: 'contoso.example', clientId: 'app', clientSecret: 's3cret' });
    expect(r).toMatchObject({ ok: true, graph: { mailbox: 'drop@contoso.example', baseUrl: 'https://graph.microsoft.com', auth: { kind: 'oauth2', provider: { name: 'microsoft', scope: 'https://graph.microsoft.com/.default', tokenUrl: 'https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token', credential: { kind: 'secret' } } } } });
  });
  it('names what is missing by its GRAPH_* variable', () => {
    const r = parseGraphInbox({ ...base, clientSecret: 'x', certificateFile: '/c.pem' });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems.join('\n');
    expect(problems).toMatch(/GRAPH_MAILBOX is required/);
    expect(problems).toMatch(/GRAPH_TENANT is required/);
    expect(problems).toMatch(/GRAPH_CLIENT_ID is required/);
    expect(problems).toMatch(/GRAPH_CLIENT_SECRET and GRAPH_CERTIFICATE_FILE are two ways/);
  });
});
