import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig as loadConfigWithout } from '../../src/config/config.js';
import * as mailboxesReader from '../../src/config/mailboxes-file.js';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { MailboxesFileError, parseMailboxesFile, type MailboxDefaults, type SecretSources } from '../../src/config/mailboxes-file.js';

// the service roles load MAILBOXES_FILE's reader on demand (loadServiceConfig); here it is handed in
const loadConfig = (env: Record<string, string>, role: Parameters<typeof loadConfigWithout>[1], cwd?: string) => loadConfigWithout(env, role, cwd, mailboxesReader);

const FILE = '/etc/fi/mailboxes.json';
const defaults: MailboxDefaults = { allowedHosts: parseAllowlist('faspex.example.com,*.studio.example'), allowedForwarders: undefined, authservId: undefined, maxLinks: 50 };
const PASSWORD = 'hunter2-very-secret';
const secrets: SecretSources = {
  env: { A_PASS: PASSWORD, EMPTY: '' },
  readFile: (p) => {
    if (p === '/etc/fi/secrets/b.txt') return `${PASSWORD}-b\n`;
    if (p === '/etc/fi/empty.txt') return '\n';
    throw Object.assign(new Error('nope'), { code: 'ENOENT' });
  },
};
const a = { id: 'studio-a', host: 'imap.a.example', user: 'ingest-a', auth: { passwordEnv: 'A_PASS' } };
const b = { id: 'studio-b', host: 'imap.b.example', port: 143, secure: false, user: 'ingest-b', folder: 'Faspex', auth: { method: 'password', passwordFile: 'secrets/b.txt' }, allowedHosts: ['x.studio.example'], downloadFolder: 'clients/b', moveTo: 'Done', startAt: 'newest' };

function problems(json: unknown): string[] {
  try {
    parseMailboxesFile(FILE, typeof json === 'string' ? json : JSON.stringify(json), defaults, secrets);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(MailboxesFileError);
    return (e as MailboxesFileError).problems;
  }
}

describe('MAILBOXES_FILE', () => {
  it('reads two mailboxes with their defaults, secrets from a variable and a file', () => {
    const [ia, ib] = parseMailboxesFile(FILE, JSON.stringify({ mailboxes: [a, b] }), defaults, secrets);
    expect(ia).toMatchObject({ id: 'studio-a', imap: { host: 'imap.a.example', port: 993, secure: true, user: 'ingest-a', password: PASSWORD, mailbox: 'INBOX', markKeyword: true, moveTo: undefined, resyncSeconds: 300, startAt: 'oldest' }, maxLinks: 50, downloadFolder: undefined, senderPolicy: undefined });
    expect(ia!.allowedHosts).toBe(defaults.allowedHosts);
    expect(ib).toMatchObject({ id: 'studio-b', imap: { port: 143, secure: false, password: `${PASSWORD}-b`, mailbox: 'Faspex', moveTo: 'Done', startAt: 'newest' }, downloadFolder: 'clients/b' });
    expect(ib!.allowedHosts.map((h) => h.source)).toEqual(['x.studio.example']);
  });

  it('logs in with OAuth2 through the imap-auth parser, secrets from a variable, key files relative to the file', () => {
    const [ms, g] = parseMailboxesFile(FILE, JSON.stringify({ mailboxes: [
      { ...a, user: 'ingest@contoso.example', auth: { method: 'oauth2', provider: 'microsoft', tenant: 'contoso.example', clientId: 'app-1', clientSecretEnv: 'A_PASS' } },
      { ...b, auth: { method: 'oauth2', provider: 'google', keyFile: 'keys/sa.json' }, caFile: 'ca.pem' },
    ] }), defaults, secrets);
    expect(ms!.imap!.auth).toEqual({ kind: 'oauth2', user: 'ingest@contoso.example', provider: { name: 'microsoft', tenant: 'contoso.example', clientId: 'app-1', credential: { kind: 'secret', clientSecret: PASSWORD }, tokenUrl: 'https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token', scope: 'https://outlook.office365.com/.default' } });
    expect(ms!.imap!.password).toBe('');
    expect(g!.imap!.auth).toMatchObject({ kind: 'oauth2', provider: { name: 'google', keyFile: '/etc/fi/keys/sa.json' } });
    expect(g!.imap!.tls).toEqual({ caFile: '/etc/fi/ca.pem', insecure: false });
  });

  it('takes the sender policy from the mailbox, or the environment', () => {
    const [m] = parseMailboxesFile(FILE, JSON.stringify({ mailboxes: [{ ...a, allowedForwarders: 'ops@a.example, a.example', authservId: 'mx.a.example', maxLinks: 5 }] }), defaults, secrets);
    expect(m).toMatchObject({ senderPolicy: { allowedForwarders: ['ops@a.example', 'a.example'], authservId: 'mx.a.example' }, maxLinks: 5 });
    const [n] = parseMailboxesFile(FILE, JSON.stringify({ mailboxes: [a] }), { ...defaults, allowedForwarders: ['x.example'], authservId: 'mx' }, secrets);
    expect(n!.senderPolicy).toEqual({ allowedForwarders: ['x.example'], authservId: 'mx' });
  });

  const at = `MAILBOXES_FILE ${FILE}`;
  it.each([
    ['not JSON', '{mailboxes:', /^MAILBOXES_FILE \/etc\/fi\/mailboxes\.json: not valid JSON/],
    ['no mailbox', { mailboxes: [] }, `${at}: mailboxes: lists no mailbox`],
    ['unknown top-level key', { mailboxes: [a], inboxes: [] }, `${at}: unknown key "inboxes" (a typo? see README "Several inboxes")`],
    ['unknown mailbox key', { mailboxes: [{ ...a, pasword: 'x' }] }, `${at}: mailbox "studio-a": unknown key "pasword" (a typo? see README "Several inboxes")`],
    ['unknown auth key', { mailboxes: [{ ...a, auth: { passwordEnv: 'A_PASS', token: 1 } }] }, `${at}: mailbox "studio-a": auth: unknown key "token" (a typo? see README "Several inboxes")`],
    ['missing host, named by position', { mailboxes: [{ ...a, id: 'Bad Id', host: undefined }] }, [`${at}: mailbox #1: id: use 1-63 lower-case letters, digits, - and _, starting with a letter or digit`, `${at}: mailbox #1: host: is required`]],
    ['port out of range', { mailboxes: [{ ...a, port: 70000 }] }, `${at}: mailbox "studio-a": port: Too big: expected number to be <=65535`],
    ['port as text', { mailboxes: [{ ...a, port: '993' }] }, `${at}: mailbox "studio-a": port: expected number, received string`],
    ['bad startAt', { mailboxes: [{ ...a, startAt: 'latest' }] }, `${at}: mailbox "studio-a": startAt: Invalid option: expected one of "oldest"|"newest"`],
    ['a password in the file', { mailboxes: [{ ...a, auth: { password: PASSWORD } }] }, `${at}: mailbox "studio-a": auth.password: is not read from the file itself: write passwordFile (a path) or passwordEnv (a variable name)`],
    ['both secret sources', { mailboxes: [{ ...a, auth: { passwordEnv: 'A_PASS', passwordFile: 'x' } }] }, `${at}: mailbox "studio-a": auth: needs exactly one of passwordFile or passwordEnv`],
    ['unset variable', { mailboxes: [{ ...a, auth: { passwordEnv: 'NOPE' } }] }, `${at}: mailbox "studio-a": auth.passwordEnv: the variable NOPE is not set`],
    ['empty variable', { mailboxes: [{ ...a, auth: { passwordEnv: 'EMPTY' } }] }, `${at}: mailbox "studio-a": auth.passwordEnv: the variable EMPTY is not set`],
    ['missing file', { mailboxes: [{ ...a, auth: { passwordFile: 'gone.txt' } }] }, `${at}: mailbox "studio-a": auth.passwordFile: /etc/fi/gone.txt cannot be read (ENOENT)`],
    ['empty file', { mailboxes: [{ ...a, auth: { passwordFile: '/etc/fi/empty.txt' } }] }, `${at}: mailbox "studio-a": auth.passwordFile: /etc/fi/empty.txt is empty`],
    ['oauth2 with a password key', { mailboxes: [{ ...a, auth: { method: 'oauth2', passwordEnv: 'A_PASS' } }] }, `${at}: mailbox "studio-a": auth: unknown key "passwordEnv" (a typo? see README "Several inboxes")`],
    ['unknown method', { mailboxes: [{ ...a, auth: { method: 'kerberos', passwordEnv: 'A_PASS' } }] }, `${at}: mailbox "studio-a": auth.method: Invalid input: expected "password"`.replace('Invalid input: ', '')],
    ['oauth2 without provider', { mailboxes: [{ ...a, auth: { method: 'oauth2' } }] }, `${at}: mailbox "studio-a": auth.provider is required with auth.method=oauth2 (microsoft, google or refresh-token)`],
    ['oauth2 microsoft missing client id', { mailboxes: [{ ...a, auth: { method: 'oauth2', provider: 'microsoft', tenant: 'contoso.example', clientSecretEnv: 'A_PASS' } }] }, `${at}: mailbox "studio-a": auth.clientId is required with auth.provider=microsoft (the application (client) id of the app registration)`],
    ['oauth2 client secret in the file', { mailboxes: [{ ...a, auth: { method: 'oauth2', provider: 'microsoft', tenant: 't', clientId: 'c', clientSecret: PASSWORD } }] }, [`${at}: mailbox "studio-a": auth.clientSecret: is not read from the file itself: write clientSecretFile (a path) or clientSecretEnv (a variable name)`]],
    ['oauth2 refresh token unset', { mailboxes: [{ ...a, auth: { method: 'oauth2', provider: 'refresh-token', tokenUrl: 'https://login.example/token', clientId: 'c', refreshTokenEnv: 'NOPE' } }] }, [`${at}: mailbox "studio-a": auth.refreshTokenEnv: the variable NOPE is not set`, `${at}: mailbox "studio-a": auth.refreshTokenFile (or auth.refreshTokenEnv) is required with auth.provider=refresh-token (a refresh token granted to that client for this mailbox)`]],
    ['allowlist syntax', { mailboxes: [{ ...a, allowedHosts: 'ftp://x.studio.example' }] }, `${at}: mailbox "studio-a": allowedHosts: "ftp://x.studio.example": only https:// or http:// may be written`],
    ['allowlist wider than the service', { mailboxes: [{ ...a, allowedHosts: ['faspex.example.com', 'evil.example.net'] }] }, `${at}: mailbox "studio-a": allowedHosts: "evil.example.net" is not within FASPEX_ALLOWED_HOSTS, so the workers would refuse its links; add it there too`],
    ['forwarders without authserv-id', { mailboxes: [{ ...a, allowedForwarders: ['ops@a.example'] }] }, `${at}: mailbox "studio-a": authservId is required with allowedForwarders (or set MAIL_AUTHSERV_ID): without it a forged From cannot be told apart`],
    ['download folder outside', { mailboxes: [{ ...a, downloadFolder: '../elsewhere' }] }, `${at}: mailbox "studio-a": downloadFolder: ".." would leave DOWNLOAD_DIR or mean nothing; name real folders`],
    ['download folder absolute', { mailboxes: [{ ...a, downloadFolder: '/srv/other' }] }, `${at}: mailbox "studio-a": downloadFolder: must be relative: it is a folder inside DOWNLOAD_DIR`],
    ['duplicate id', { mailboxes: [a, { ...b, id: 'studio-a' }] }, `${at}: mailbox "studio-a": the id "studio-a" is already watched by mailbox "studio-a"`],
    ['one folder twice', { mailboxes: [a, { ...a, id: 'again', user: 'INGEST-A' }] }, `${at}: mailbox "again": the folder ingest-a@imap.a.example:993/inbox is already watched by mailbox "studio-a"`],
  ])('%s', (_what, json, expected) => {
    const got = problems(json);
    if (expected instanceof RegExp) expect(got.join('\n')).toMatch(expected);
    else expect(got).toEqual(Array.isArray(expected) ? expected : [expected]);
  });

  it.each([
    ['an unquoted password', `{"mailboxes":[{"id":"a","auth":{"password":${PASSWORD}}}]}`, /: not valid JSON \(Unexpected token 'h'\)$/],
    ['a quoted one before a missing comma', `{"mailboxes":[{"id":"a",\n"auth":{"password":"${PASSWORD}" "x":1}}]}`, /: not valid JSON \(Expected ',' or '}' after property value at line 2 column 42\)$/],
  ])('broken JSON around %s: the position, never the text JSON.parse quotes', (_what, text, expected) => {
    let got: string[] = [];
    try {
      parseMailboxesFile(FILE, text, defaults, secrets);
    } catch (e) {
      got = (e as MailboxesFileError).problems;
    }
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(expected);
    expect(got[0]).not.toContain(PASSWORD.slice(0, 6));
  });

  it('reports every mailbox\'s problems at once and never a secret value', () => {
    const got = problems({ mailboxes: [{ ...a, port: 0 }, { ...b, auth: { passwordEnv: 'A_PASS', password: PASSWORD } }] });
    expect(got).toHaveLength(2);
    expect(got.join('\n')).not.toContain(PASSWORD);
  });
});

describe('loadConfig with MAILBOXES_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fi-mbx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = (file: string, extra: Record<string, string> = {}) => ({ FASPEX_ALLOWED_HOSTS: 'faspex.example.com', MAILBOXES_FILE: file, A_PASS: 'pw-a-secret', ...extra });

  it('needs no IMAP_* variable, and the IMAP_* variables give one inbox named default', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ mailboxes: [a] }));
    expect(loadConfig(env(file), 'listen', dir).inboxes.map((i) => i.id)).toEqual(['studio-a']);
    const single = loadConfig({ FASPEX_ALLOWED_HOSTS: 'faspex.example.com', IMAP_HOST: 'imap.example.com', IMAP_USER: 'u', IMAP_PASSWORD: 'p' }, 'listen', dir);
    expect(single.inboxes).toMatchObject([{ id: 'default', imap: { host: 'imap.example.com', user: 'u' }, downloadFolder: undefined }]);
    expect(single.listener.leaseMs).toBe(15_000);
  });

  it('refuses both ways of describing inboxes, names an unreadable file, and is not read by other roles', () => {
    const err = (e: Record<string, string>, role: Parameters<typeof loadConfig>[1] = 'listen') => {
      try {
        loadConfig(e, role, dir);
        return [];
      } catch (x) {
        expect(x).toBeInstanceOf(ConfigError);
        return (x as ConfigError).problems;
      }
    };
    const file = join(dir, 'ok2.json');
    writeFileSync(file, JSON.stringify({ mailboxes: [a] }));
    expect(err(env(file, { IMAP_HOST: 'imap.example.com', IMAP_USER: 'u' }))).toEqual(['IMAP_HOST and MAILBOXES_FILE both describe inboxes: describe every inbox in MAILBOXES_FILE and unset the IMAP_* variables']);
    expect(err(env('missing.json'))).toEqual([`MAILBOXES_FILE ${join(dir, 'missing.json')} cannot be read (ENOENT)`]);
    expect(err(env('missing.json'), 'work')).toEqual([]);
  });
});

describe('the README example of MAILBOXES_FILE', () => {
  it('is a valid file', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Several inboxes'));
    const json = /```json\n([\s\S]*?)```/.exec(section)![1]!;
    const inboxes = parseMailboxesFile('/etc/faspex-ingest/mailboxes.json', json, { ...defaults, allowedHosts: parseAllowlist('*.studio-a.example, faspex.post.example') }, {
      env: { POST_IMAP_PASSWORD: 'pw' },
      readFile: () => 'pw-a\n',
    });
    expect(inboxes.map((i) => [i.id, i.imap!.mailbox, i.downloadFolder])).toEqual([
      ['studio-a', 'INBOX', 'studio-a'],
      ['post', 'Faspex', undefined],
    ]);
  });
});

describe('MAILBOXES_FILE: "source": "graph" entries', () => {
  const g = { id: 'm365', source: 'graph', mailbox: 'drop@contoso.example', tenant: 'contoso.example', clientId: 'app-1', clientSecretEnv: 'A_PASS', moveTo: 'Faspex handled', downloadFolder: 'm365' };

  it('reads a Graph mailbox beside an IMAP one, its secret from a variable, Graph\'s scope, the common fields', () => {
    const [imap, graph] = parseMailboxesFile(FILE, JSON.stringify({ mailboxes: [{ ...a, source: 'imap' }, { ...g, certificateFile: undefined, pollSeconds: 5, caFile: 'ca.pem' }] }), defaults, secrets);
    expect(imap!.imap!.host).toBe('imap.a.example');
    expect(graph).toMatchObject({ id: 'm365', source: 'graph', downloadFolder: 'm365', graph: { mailbox: 'drop@contoso.example', folder: 'Inbox', pollSeconds: 5, moveTo: 'Faspex handled', markKeyword: true, caFile: '/etc/fi/ca.pem', baseUrl: 'https://graph.microsoft.com' } });
    expect(graph!.graph!.auth).toMatchObject({ kind: 'oauth2', provider: { name: 'microsoft', scope: 'https://graph.microsoft.com/.default', credential: { kind: 'secret', clientSecret: PASSWORD } } });
  });

  it('refuses a literal secret, IMAP keys, a missing tenant and an unknown source, naming the field and never the value', () => {
    const found = problems({ mailboxes: [{ ...g, clientSecret: 'literal-s3cret', host: 'imap.x' }, { ...g, id: 'two', tenant: undefined }, { ...a, id: 'three', source: 'gmail' }] }).join('\n');
    expect(found).toMatch(/mailbox "m365": clientSecret: is not read from the file itself/);
    expect(found).toMatch(/mailbox "m365": unknown key "host"/);
    expect(found).toMatch(/mailbox "two": tenant is required/);
    expect(found).toMatch(/mailbox "three": source: expected "imap" or "graph", got "gmail"/);
    expect(found).not.toContain('literal-s3cret');
  });
});
