/**
 * A mail names a Faspex 5 server with an API client (decide.ts `mentions`) when its text or HTML
 * holds `//host` (or a gateway's `%2F%2Fhost`) with the host ending there: such a mail asks for a
 * sweep of that server's boxes whatever its link form. A longer host that starts the same does
 * not name it.
 */
import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { decideMail } from '../../src/mail/decide.js';

const HOSTS = ['f5.example.com', 'f5b.example.com:8443'];
const ALLOW = parseAllowlist('f5.example.com, f5b.example.com:8443');

function mail(body: string, type = 'text/plain; charset=utf-8'): Buffer {
  return Buffer.from(['From: a@b.example', 'Subject: package', 'MIME-Version: 1.0', `Content-Type: ${type}`, '', body, ''].join('\r\n'));
}

describe('which Faspex 5 servers a mail names', () => {
  const cases: Array<[string, Buffer, string[] | undefined]> = [
    ['a link of an unknown form', mail('Open https://f5.example.com/aspera/faspex/new/route/77 now'), ['f5.example.com']],
    ['the host in capitals', mail('Open HTTPS://F5.EXAMPLE.COM/x'), ['f5.example.com']],
    ['the host at the end of the text', mail('see //f5.example.com'), ['f5.example.com']],
    ['in an href of the HTML part', mail('<a href="https://f5.example.com/aspera/faspex">Open</a>', 'text/html; charset=utf-8'), ['f5.example.com']],
    ['wrapped by a gateway (percent-encoded slashes)', mail('https://gw.example.net/?u=https%3A%2F%2Ff5.example.com%2Faspera'), ['f5.example.com']],
    ['a host with its port', mail('https://f5b.example.com:8443/aspera/faspex/x'), ['f5b.example.com:8443']],
    ['both servers', mail('https://f5.example.com/a and https://f5b.example.com:8443/b'), ['f5.example.com', 'f5b.example.com:8443']],
    ['a longer host that starts the same', mail('https://f5.example.com.evil.example/aspera'), undefined],
    ['a host that ends the same', mail('https://xf5.example.com/aspera'), undefined],
    ['another subdomain after it', mail('https://f5.example.com-x.example/aspera'), undefined],
    ['the port server without its port', mail('https://f5b.example.com/aspera'), undefined],
    ['the host as plain words, not a URL', mail('our server f5.example.com is down'), undefined],
    ['nothing', mail('no link here'), undefined],
  ];
  it.each(cases)('%s', async (_what, raw, want) => {
    const decision = await decideMail(raw, { allowlist: ALLOW, mentionHosts: HOSTS });
    expect(decision.mentions).toEqual(want);
  });

  it('names none when no server has an API client', async () => {
    expect((await decideMail(mail('https://f5.example.com/x'), { allowlist: ALLOW })).mentions).toBeUndefined();
    expect((await decideMail(mail('https://f5.example.com/x'), { allowlist: ALLOW, mentionHosts: [] })).mentions).toBeUndefined();
  });

  it('reads each mail against the host list it is given, also a new list', async () => {
    const raw = mail('https://f5.example.com/x and https://other.example.org/y');
    expect((await decideMail(raw, { allowlist: ALLOW, mentionHosts: HOSTS })).mentions).toEqual(['f5.example.com']);
    expect((await decideMail(raw, { allowlist: ALLOW, mentionHosts: ['other.example.org'] })).mentions).toEqual(['other.example.org']);
  });
});
