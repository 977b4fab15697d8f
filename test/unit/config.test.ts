import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { SECRET_VARIABLES, VARIABLES } from '../../src/config/variables.js';

const base = { FASPEX_ALLOWED_HOSTS: 'faspex.example.com', IMAP_HOST: 'imap.example.com', IMAP_USER: 'u', IMAP_PASSWORD: 'p' };

function problems(env: Record<string, string>, role: Parameters<typeof loadConfig>[1] = 'run'): string[] {
  try {
    loadConfig(env, role, '/srv');
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
}

describe('loadConfig', () => {
  it('names a bad value once, however many checks read the variable', () => {
    expect(problems({ ...base, REDIS_SENTINELS: 'b:x', REDIS_CLUSTER_NODES: 'a:notaport', QUEUE_PREFIX: '{fi}' }, 'work')).toEqual([
      'REDIS_SENTINELS: "b:x" is not host:port',
      'REDIS_CLUSTER_NODES: "a:notaport" is not host:port',
    ]);
  });

  it('applies the documented defaults', () => {
    const c = loadConfig(base, 'run', '/srv');
    expect(c.imap).toMatchObject({ port: 993, secure: true, mailbox: 'INBOX' });
    expect(c.downloads.dir).toBe('/srv/downloads');
    expect(c.dataDir).toBe('/srv/data');
    expect(c.workers).toMatchObject({ concurrency: 2, attempts: 5 });
    expect(c.dashboard).toMatchObject({ host: '127.0.0.1', port: 3000 });
    expect(c.redis.url).toBeUndefined();
    expect(c.logLevel).toBe('info');
  });

  it.each([
    [{ IMAP_PORT: 'abc' }, 'IMAP_PORT: expected a whole number from 1 to 65535, got "abc"'],
    [{ IMAP_PORT: '70000' }, 'IMAP_PORT: expected a whole number from 1 to 65535, got 70000'],
    [{ IMAP_SECURE: 'maybe' }, 'IMAP_SECURE: expected true or false, got "maybe"'],
    [{ WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY: expected a whole number from 1 to 64, got 0'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ FASPEX_ALLOWED_HOSTS: 'https://fx.example.com/aspera' }, 'FASPEX_ALLOWED_HOSTS: "https://fx.example.com/aspera": write a host with an optional port, not a URL path'],
    [{ FASPEX_ALLOWED_HOSTS: 'ftp://fx.example.com' }, 'FASPEX_ALLOWED_HOSTS: "ftp://fx.example.com": only https:// or http:// may be written'],
    [{ FASPEX_USERNAME: 'bob' }, 'FASPEX_USERNAME and FASPEX_PASSWORD go together: set both or neither'],
    [{ MAIL_ALLOWED_FORWARDERS: 'ops@example.com' }, 'MAIL_AUTHSERV_ID is required with MAIL_ALLOWED_FORWARDERS: without it a forged From cannot be told apart'],
    [{ DASHBOARD_HOST: '0.0.0.0' }, 'DASHBOARD_USER and DASHBOARD_PASSWORD are required: the dashboard listens on 0.0.0.0, beyond loopback'],
    [{ RETRY_BASE_SECONDS: '100', RETRY_MAX_SECONDS: '10' }, 'RETRY_MAX_SECONDS must not be smaller than RETRY_BASE_SECONDS'],
  ])('names the variable and the problem: %o', (env, expected) => {
    expect(problems({ ...base, ...env })).toContain(expected);
  });

  it('names every missing variable a role needs', () => {
    expect(problems({}, 'listen')).toEqual([
      expect.stringMatching(/^IMAP_HOST is required for `listen`/),
      expect.stringMatching(/^IMAP_USER is required for `listen`/),
      expect.stringMatching(/^IMAP_PASSWORD is required for `listen`/),
      expect.stringMatching(/^FASPEX_ALLOWED_HOSTS is required for `listen`/),
    ]);
    expect(problems({}, 'work')).toEqual([expect.stringMatching(/^FASPEX_ALLOWED_HOSTS is required for `work`/)]);
    expect(problems({}, 'offline')).toEqual([]);
  });

  it('never echoes a secret value in an error', () => {
    const p = problems({ ...base, REDIS_URL: 'not a url s3cr3t-pass' });
    expect(p).toEqual(['REDIS_URL: is not valid']);
  });

  it('documents every variable in .env.example and the README', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of [...Object.keys(VARIABLES), ...SECRET_VARIABLES.map((n) => `${n}_FILE`)]) {
      expect(example, `.env.example lacks ${name}`).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
      expect(readme, `README lacks ${name}`).toContain(`\`${name}\``);
    }
  });
});
