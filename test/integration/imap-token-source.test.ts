import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { maskText } from '../../src/log/secrets.js';
import type { ImapAuth } from '../../src/mail/imap-auth/auth-config.js';
import { createImapAuthSource, LoginRefused, TokenUnavailable } from '../../src/mail/imap-auth/token-source.js';
import { freePort } from '../../src/service/redis-server.js';
import { startTokenService, type TokenService } from '../support/oauth-token-service.js';
import { startProxy } from '../support/proxy.js';
import { uniqueName } from '../support/temp.js';

/**
 * The token source against the test token service and the test Redis: what the listener gets on
 * each connect, and how often the token endpoint is asked.
 */
describe('mailbox token source', () => {
  let tokens: TokenService;
  let redis: Redis;
  const logger = createLogger({ level: 'silent' });

  beforeAll(async () => {
    tokens = await startTokenService();
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await tokens?.close();
    redis?.disconnect();
  });

  const microsoft = (clientId: string, secret: string, tokenUrl = tokens.entraTokenUrl('t')): ImapAuth => ({
    kind: 'oauth2', user: 'box@example.com',
    provider: { name: 'microsoft', tenant: 't', clientId, credential: { kind: 'secret', clientSecret: secret }, tokenUrl, scope: 'https://outlook.office365.com/.default' },
  });
  const grants = (client: string) => tokens.grants.filter((g) => g.client === client);

  it('several processes on one Redis ask the endpoint once, and reuse the token until it is refused', async () => {
    tokens.addSecretClient('shared-app', 'shared-secret', 'box@example.com');
    const prefix = uniqueName('tok-shared');
    const sources = [1, 2, 3].map(() => createImapAuthSource({ auth: microsoft('shared-app', 'shared-secret'), caFile: tokens.caFile, redis, prefix, logger }));
    // at once, as three listeners starting together
    const logins = await Promise.all(sources.flatMap((s) => [s.login(), s.login()]));
    expect(new Set(logins.map((l) => l.accessToken)).size).toBe(1);
    expect(logins[0]).toEqual({ user: 'box@example.com', accessToken: tokens.issued.at(-1) });
    expect(grants('shared-app')).toHaveLength(1);

    // the server refused it: the next login anywhere gets a new one, fetched once
    await sources[0]!.refused();
    const again = await sources[0]!.login();
    expect(again.accessToken).not.toBe(logins[0]!.accessToken);
    expect((await sources[1]!.login()).accessToken).toBe(logins[0]!.accessToken); // its own cache still holds the old one
    expect(grants('shared-app')).toHaveLength(2);
    // tokens and secrets are masked wherever they might be printed
    expect(maskText(`token ${again.accessToken} secret shared-secret`)).toBe('token *** secret ***');
    await Promise.all(sources.map((s) => s.close()));
  });

  it('a refused grant is LoginRefused with the provider\'s words; an unreachable endpoint is TokenUnavailable', async () => {
    tokens.addSecretClient('wrong-secret-app', 'right', 'box@example.com');
    const refused = createImapAuthSource({ auth: microsoft('wrong-secret-app', 'wrong'), caFile: tokens.caFile, logger });
    const err = await refused.login().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoginRefused);
    expect((err as LoginRefused).reason).toMatch(/^invalid_client: AADSTS7000215: Invalid client secret provided/);
    await refused.close();

    const dead = createImapAuthSource({ auth: microsoft('x', 'y', `https://127.0.0.1:${await freePort()}/t/oauth2/v2.0/token`), logger });
    const down = await dead.login().catch((e: unknown) => e);
    expect(down).toBeInstanceOf(TokenUnavailable);
    expect((down as Error).message).toMatch(/token endpoint 127\.0\.0\.1:\d+ refused the connection/);
    await dead.close();
  });

  it('token requests take HTTPS_PROXY like every request, and go direct for a NO_PROXY host', async () => {
    tokens.addSecretClient('proxied-app', 'proxied-secret', 'box@example.com');
    const proxy = await startProxy();
    const port = Number(new URL(tokens.origin).port);
    try {
      const via = createImapAuthSource({ auth: microsoft('proxied-app', 'proxied-secret'), caFile: tokens.caFile, logger, proxy: { httpsProxy: proxy.url } });
      expect((await via.login()).accessToken).toBe(tokens.issued.at(-1));
      expect(proxy.connectsTo(port)).toBe(1);
      await via.close();
      const direct = createImapAuthSource({ auth: microsoft('proxied-app', 'proxied-secret'), caFile: tokens.caFile, logger, proxy: { httpsProxy: proxy.url, noProxy: '127.0.0.1' } });
      expect((await direct.login()).accessToken).toBe(tokens.issued.at(-1));
      expect(proxy.connectsTo(port)).toBe(1);
      await direct.close();
    } finally {
      await proxy.stop();
    }
  });

  it('the token endpoint\'s certificate is checked: without IMAP_CA_FILE the test CA is not trusted', async () => {
    tokens.addSecretClient('ca-app', 'ca-secret', 'box@example.com');
    const source = createImapAuthSource({ auth: microsoft('ca-app', 'ca-secret'), logger });
    const err = await source.login().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenUnavailable);
    expect((err as Error).message).toMatch(/certificate .*IMAP_CA_FILE/);
    expect(grants('ca-app')).toHaveLength(0);
    await source.close();
  });
});
