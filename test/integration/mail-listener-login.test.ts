import { afterEach, describe, expect, inject, it } from 'vitest';
import { LoginRefused, type ImapAuthSource, type ImapLogin } from '../../src/mail/imap-auth/token-source.js';
import { startHarness, type Harness } from '../fixtures/mail/listener-harness.js';
import { waitFor } from '../support/temp.js';

/** A renewable source (like OAuth2) whose credentials the test chooses, recording every call. */
function scriptedSource(next: () => ImapLogin | Error): ImapAuthSource & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    renewable: true,
    async login() {
      calls.push('login');
      const n = next();
      if (n instanceof Error) throw n;
      return n;
    },
    async refused() {
      calls.push('refused');
    },
    async close() {},
  };
}

describe('listener login through an auth source', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a refused login is renewed at once, once; a second refusal backs off and is reported', async () => {
    h = await startHarness(inject('redisUrl'), 'login-refused');
    const source = scriptedSource(() => ({ user: h!.dovecot.user, pass: 'not-the-password' }));
    const disconnects: string[] = [];
    const l = h.newListener({ auth: source, events: { disconnected: ({ reason }) => void disconnects.push(reason) } });
    l.start();
    await waitFor(() => disconnects.length > 0, { what: 'the listener to back off', timeoutMs: 20_000 });
    // login, refused, login again at once, refused: only then the first backoff
    expect(source.calls.slice(0, 4)).toEqual(['login', 'refused', 'login', 'refused']);
    expect(disconnects[0]).toMatch(/^mailbox login refused: \[AUTHENTICATIONFAILED\] Authentication failed/);
    expect(l.status()).toMatchObject({ connected: false, lastError: disconnects[0] });
    await l.stop();
  });

  it('a provider refusal is reported in its words and backed off, without a renewal loop', async () => {
    h = await startHarness(inject('redisUrl'), 'login-provider');
    const source = scriptedSource(() => new LoginRefused('invalid_client: AADSTS7000222: The provided client secret keys are expired.'));
    const disconnects: string[] = [];
    const l = h.newListener({ auth: source, events: { disconnected: ({ reason }) => void disconnects.push(reason) } });
    l.start();
    await waitFor(() => disconnects.length > 0, { what: 'the listener to back off' });
    expect(source.calls.slice(0, 1)).toEqual(['login']);
    expect(disconnects[0]).toBe('mailbox login refused: invalid_client: AADSTS7000222: The provided client secret keys are expired.');
    await l.stop();
  });

  it('asks the source again on every connect: a good login after a refusal reads the mailbox', async () => {
    h = await startHarness(inject('redisUrl'), 'login-renewed');
    let n = 0;
    const source = scriptedSource(() => ({ user: h!.dovecot.user, pass: n++ === 0 ? 'stale' : h!.dovecot.password }));
    const l = h.newListener({ auth: source });
    l.start();
    // the first pass over the mailbox is what clears the last error
    await waitFor(() => l.status().connected && l.status().lastError === undefined, { what: 'connected with the renewed login, the refusal cleared', timeoutMs: 30_000 });
    expect(source.calls).toEqual(['login', 'refused', 'login']);
    await l.stop();
  });
});
