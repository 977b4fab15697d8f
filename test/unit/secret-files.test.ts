import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { MAX_SECRET_FILE_BYTES, readSecretFileFrom, resolveSecretFiles } from '../../src/config/secret-files.js';
import { SECRET_VARIABLES, VARIABLES } from '../../src/config/variables.js';
import { maskText } from '../../src/log/secrets.js';
import { tempDir } from '../support/temp.js';

const files: Record<string, string> = {
  '/s/plain': 's3cret-one',
  '/s/newline': 's3cret-two\n',
  '/s/crlf': 's3cret-three\r\n',
  '/s/two-newlines': 'line\n\n',
  '/s/multiline': '-----BEGIN KEY-----\nabc\n-----END KEY-----\n',
  '/s/empty': '',
};
const fakeRead = (path: string): string => {
  if (path in files) return files[path]!;
  throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
};

describe('resolveSecretFiles (pure)', () => {
  it.each([
    ['a plain file', '/s/plain', 's3cret-one'],
    ['one trailing newline removed', '/s/newline', 's3cret-two'],
    ['a trailing CRLF removed', '/s/crlf', 's3cret-three'],
    ['only one trailing newline removed', '/s/two-newlines', 'line\n'],
    ['inner newlines kept (PEM, JSON)', '/s/multiline', '-----BEGIN KEY-----\nabc\n-----END KEY-----'],
    ['an empty file gives an empty value, read as unset', '/s/empty', ''],
  ])('%s', (_what, path, value) => {
    const r = resolveSecretFiles({ IMAP_PASSWORD_FILE: path }, ['IMAP_PASSWORD'], fakeRead);
    expect(r.problems).toEqual([]);
    expect(r.env.IMAP_PASSWORD).toBe(value);
    expect(r.env.IMAP_PASSWORD_FILE).toBeUndefined();
  });

  it.each([
    ['both forms', { FASPEX_PASSWORD: 'inline-pw', FASPEX_PASSWORD_FILE: '/s/plain' }, 'FASPEX_PASSWORD and FASPEX_PASSWORD_FILE are both set: give the value one way only'],
    ['a missing file', { FASPEX_PASSWORD_FILE: '/s/nope' }, 'FASPEX_PASSWORD_FILE: cannot read /s/nope: no such file'],
  ])('%s is an error naming the variables, never the value', (_what, env, problem) => {
    const r = resolveSecretFiles(env, ['FASPEX_PASSWORD'], fakeRead);
    expect(r.problems).toEqual([problem]);
    expect(r.failed).toEqual(new Set(['FASPEX_PASSWORD']));
    expect(r.problems.join()).not.toContain('inline-pw');
    expect(r.problems.join()).not.toContain('s3cret');
  });

  it('leaves non-secret NAME_FILE variables and unset or empty file forms alone', () => {
    const r = resolveSecretFiles({ FASPEX_CA_FILE: '/ca.pem', IMAP_PASSWORD_FILE: '', IMAP_PASSWORD: 'pw' }, ['IMAP_PASSWORD'], fakeRead);
    expect(r.problems).toEqual([]);
    expect(r.env).toMatchObject({ FASPEX_CA_FILE: '/ca.pem', IMAP_PASSWORD: 'pw' });
  });
});

describe('NAME_FILE in loadConfig', () => {
  const dir = tempDir('secret-files');
  afterAll(() => dir.remove());
  const write = (name: string, content: string): string => {
    const path = join(dir.path, name);
    writeFileSync(path, content);
    return path;
  };
  const base = { FASPEX_ALLOWED_HOSTS: 'faspex.example.com', IMAP_HOST: 'imap.example.com', IMAP_USER: 'u' };
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env, 'run', dir.path);
      return [];
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems;
    }
  };

  it('every secret variable of the table has a file form, and no other does', () => {
    const secret = Object.entries(VARIABLES).filter(([, s]) => 'secret' in s && s.secret).map(([n]) => n);
    expect(SECRET_VARIABLES).toEqual(secret);
    expect(SECRET_VARIABLES).toEqual(expect.arrayContaining(['IMAP_PASSWORD', 'FASPEX_PASSWORD', 'DASHBOARD_PASSWORD', 'REDIS_URL', 'FASPEX5_CLIENTS']));
    expect(SECRET_VARIABLES).not.toContain('IMAP_HOST');
  });

  // Generic over the table: a secret added later is covered without editing this test.
  // Loading with NAME_FILE must give exactly what NAME gives (same config or same problems).
  const valid: Record<string, string> = {
    REDIS_URL: 'redis://:pw-from-file@127.0.0.1:6379',
    COMPLETION_WEBHOOK_URL: 'https://hooks.example.com/t0ken-in-path',
    FASPEX5_CLIENTS: '{"fx.example.com":{"client_id":"c"}}',
  };
  // secrets that only count with other settings: those settings, and what they replace
  const context: Record<string, { set: Record<string, string>; unset: string[] }> = {
    IMAP_OAUTH_CLIENT_SECRET: { set: { IMAP_AUTH: 'oauth2', IMAP_OAUTH_PROVIDER: 'microsoft', IMAP_OAUTH_TENANT: 't', IMAP_OAUTH_CLIENT_ID: 'c' }, unset: ['IMAP_PASSWORD'] },
    IMAP_OAUTH_REFRESH_TOKEN: { set: { IMAP_AUTH: 'oauth2', IMAP_OAUTH_PROVIDER: 'refresh-token', IMAP_OAUTH_TOKEN_URL: 'https://idp.example.com/token', IMAP_OAUTH_CLIENT_ID: 'c' }, unset: ['IMAP_PASSWORD'] },
    GRAPH_CLIENT_SECRET: { set: { MAIL_SOURCE: 'graph', GRAPH_MAILBOX: 'ingest@example.com', GRAPH_TENANT: 't', GRAPH_CLIENT_ID: 'c' }, unset: ['IMAP_HOST', 'IMAP_USER', 'IMAP_PASSWORD'] },
  };
  const outcome = (env: Record<string, string>): unknown => {
    try {
      return loadConfig(env, 'run', dir.path);
    } catch (e) {
      return (e as ConfigError).problems;
    }
  };
  it.each(SECRET_VARIABLES.map((n) => [n]))('%s_FILE gives what the plain variable gives', (name) => {
    const value = valid[name] ?? `from-file-${name.toLowerCase()}`;
    const plain: Record<string, string> = { ...base, IMAP_PASSWORD: 'imap-pw', FASPEX_USERNAME: 'bob', FASPEX_PASSWORD: 'fx-pw', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'db-pw', ...context[name]?.set };
    for (const n of context[name]?.unset ?? []) delete plain[n];
    const inline = { ...plain, [name]: value };
    const fromFile: Record<string, string> = { ...plain, [`${name}_FILE`]: write(`${name}.secret`, `${value}\n`) };
    delete fromFile[name];
    expect(outcome(fromFile)).toEqual(outcome(inline));
    expect(JSON.stringify(outcome(fromFile))).toContain(JSON.stringify(value).slice(1, -1));
    // read from a file, the value is masked like every other secret
    expect(maskText(`connecting with ${value}`)).not.toContain(value);
  });

  it('satisfies a required secret; a relative path is read from the working directory', () => {
    write('imap-pw', 'hunter2-file\n');
    expect(loadConfig({ ...base, IMAP_PASSWORD_FILE: 'imap-pw' }, 'run', dir.path).imap?.password).toBe('hunter2-file');
  });

  it.each([
    ['both forms', () => ({ IMAP_PASSWORD: 'inline-pw', IMAP_PASSWORD_FILE: write('both', 'file-pw') }), ['IMAP_PASSWORD and IMAP_PASSWORD_FILE are both set: give the value one way only']],
    ['a missing file', () => ({ IMAP_PASSWORD_FILE: join(dir.path, 'absent') }), [`IMAP_PASSWORD_FILE: cannot read ${join(dir.path, 'absent')}: no such file`]],
    ['a directory', () => {
      mkdirSync(join(dir.path, 'adir'), { recursive: true });
      return { IMAP_PASSWORD_FILE: join(dir.path, 'adir') };
    }, [`IMAP_PASSWORD_FILE: cannot read ${join(dir.path, 'adir')}: it is a directory`]],
    ['an oversized file', () => ({ IMAP_PASSWORD_FILE: write('huge', 'x'.repeat(MAX_SECRET_FILE_BYTES + 1)) }), [`IMAP_PASSWORD_FILE: cannot read ${join(dir.path, 'huge')}: larger than ${MAX_SECRET_FILE_BYTES} bytes`]],
    ['an empty file, for a required secret', () => ({ IMAP_PASSWORD_FILE: write('empty', '') }), [expect.stringMatching(/^IMAP_PASSWORD is required for `run`/)]],
  ] as const)('%s is a clear error that never shows a value', (_what, env, expected) => {
    const p = problems({ ...base, ...env() });
    expect(p).toEqual(expected);
    expect(p.join()).not.toMatch(/inline-pw|file-pw/);
  });

  // root reads a mode-000 file anyway (CI and this machine run as root), so the case only runs
  // for an ordinary user; the directory and missing-file cases cover the error path for root
  it.runIf(process.getuid?.() !== 0)('an unreadable file says permission denied', () => {
    const path = write('locked', 'pw');
    chmodSync(path, 0o000);
    expect(problems({ ...base, IMAP_PASSWORD_FILE: path })).toEqual([`IMAP_PASSWORD_FILE: cannot read ${path}: permission denied`]);
  });

  it('reads exactly the bytes of the file as UTF-8', () => {
    const path = write('utf8', 'pässwörd\n');
    expect(readSecretFileFrom('/')(path)).toBe('pässwörd\n');
  });
});
