import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { extractCommand } from '../../src/cli/commands/extract.js';
import { tempDir } from '../support/temp.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'mail');

async function run(args: string[], env: NodeJS.ProcessEnv = {}, stdin = '') {
  const dir = tempDir('extract-cli');
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  try {
    // The command alone, not main.ts: the test must not depend on every other command loading.
    const program = new Command('faspex-ingest').exitOverride();
    extractCommand.register(program, { env, cwd: dir.path, stdout: out, stderr: err, stdin: Readable.from([Buffer.from(stdin)]) });
    await program.parseAsync(['extract', ...args], { from: 'user' });
    return { code: 0, stdout, stderr };
  } finally {
    dir.remove();
  }
}

describe('faspex-ingest extract', () => {
  it('a link cut short with no whole copy: nothing on stdout, "link damaged" and why on stderr, no secret', async () => {
    const cut = 'https://faspex.example.com/aspera/faspex/external_deliveries/4822?passcode=c0ffee0123456789abcdef';
    const r = await run(['-'], {}, `From: a@b.example\r\nSubject: fwd\r\nContent-Type: text/plain\r\n\r\n> Download it here:\r\n> ${cut}\r\n>    0123456789abcdef01\r\n`);
    expect(r).toEqual({ code: 0, stdout: '', stderr: 'link damaged: a Faspex 4 link to faspex.example.com is damaged: its passcode is cut short (22 of 40 hex digits)\n' });
  });

  it('prints one JSON line per package, secrets masked', async () => {
    const r = await run([join(FIXTURES, 'f4-external.eml')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([{ url: 'https://faspex.example.com/aspera/faspex/external_deliveries/1017?passcode=***&expiration=MjAyOS0wNi0xNlQwODozMjozN1o=', kind: 'faspex4-external' }]);
  });

  it('--show-secrets prints the canonical link as is', async () => {
    const r = await run(['--show-secrets', join(FIXTURES, 'f4-external.eml')]);
    expect(JSON.parse(r.stdout).url).toContain('passcode=0123456789abcdef0123456789abcdef01234567&');
  });

  it('reads standard input for - and for no file', async () => {
    const mail = readFileSync(join(FIXTURES, 'f4-received.eml'), 'utf8');
    for (const args of [['-'], []]) {
      const r = await run(args, {}, mail);
      expect(r.stdout).toBe('{"url":"https://faspex.example.com/aspera/faspex/received/4242","kind":"faspex4-received"}\n');
    }
  });

  it('prints nothing for a mail without a package link', async () => {
    const r = await run([join(FIXTURES, 'submission-invitation.eml')]);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('applies FASPEX_ALLOWED_HOSTS and warns on stderr', async () => {
    const r = await run([join(FIXTURES, 'f4-received.eml')], { FASPEX_ALLOWED_HOSTS: 'other.example.com' });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^warning: .*faspex\.example\.com.*FASPEX_ALLOWED_HOSTS/);
  });

  it('warns about Mimecast', async () => {
    const r = await run([join(FIXTURES, 'mimecast.eml')]);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('wrapped by Mimecast: forward the original notification as an attachment or paste the link');
  });

  it('throws for a missing file (main.ts turns it into one line)', async () => {
    await expect(run(['/nonexistent/mail.eml'])).rejects.toThrow(/ENOENT/);
  });
});
