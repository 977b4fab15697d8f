/**
 * Sends a token request through the project's one HTTP client (src/http/client.ts): the same
 * deadline, capped body, proxy routing (HTTPS_PROXY / NO_PROXY) and TLS rules as Faspex, but
 * its host policy admits only the token endpoint's own host, never FASPEX_ALLOWED_HOSTS.
 * Trust: the public roots plus IMAP_CA_FILE; certificates are always checked.
 */
import { permanent } from '../../errors.js';
import { createHttpClient, type HttpClient } from '../../http/client.js';
import { hostOf, type Peer } from '../../http/errors.js';
import type { ProxySettings } from '../../http/proxy.js';
import type { Logger } from '../../log/logger.js';
import { registerSecret } from '../../log/secrets.js';
import { readTokenAnswer, type TokenAnswer, type TokenRequest } from './token-requests.js';

/** A token answer is a few KB; Entra's error pages are bigger but still far below this. */
const TOKEN_MAX_BYTES = 256 * 1024;

const TOKEN_PEER: Peer = {
  name: 'token endpoint',
  timeoutSetting: 'FASPEX_TIMEOUT_SECONDS',
  tlsAdvice: 'if it uses a private or company CA, put its certificate (PEM) in a file and set IMAP_CA_FILE to it',
  authAdvice: 'the client credentials were refused; check IMAP_OAUTH_CLIENT_ID and its secret, certificate or key file',
  sizeNote: 'a token answer is far smaller',
};

export interface TokenEndpoint {
  post(req: TokenRequest): Promise<TokenAnswer>;
  close(): Promise<void>;
}

export function createTokenEndpoint(o: { tokenUrl: string; caFile: string | undefined; timeoutMs: number; proxy?: ProxySettings | undefined; logger: Logger }): TokenEndpoint {
  const endpoint = new URL(o.tokenUrl);
  const http: HttpClient = createHttpClient({
    policy: (url) => {
      if (url.protocol !== 'https:' || url.host !== endpoint.host) {
        throw permanent('HOST_NOT_ALLOWED', `only the token endpoint ${endpoint.host} is asked for mailbox tokens, not ${hostOf(url)}`, { host: hostOf(url) });
      }
    },
    timeoutMs: o.timeoutMs,
    logger: o.logger,
    tls: { caFile: o.caFile, caVariable: 'IMAP_CA_FILE' },
    ...(o.proxy ? { proxy: o.proxy } : {}),
    peer: TOKEN_PEER,
    logLabel: 'token http',
  });
  return {
    async post(req) {
      for (const s of req.secrets) registerSecret(s);
      let res;
      try {
        res = await http.request({
          method: 'POST',
          url: req.url,
          what: 'the mailbox access token',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams(req.form).toString(),
          maxBytes: TOKEN_MAX_BYTES,
          errors: 'return',
        });
      } catch (err) {
        return { ok: false, refused: false, reason: err instanceof Error ? err.message : String(err) };
      }
      const answer = readTokenAnswer(res.status, res.body, Date.now(), endpoint.host);
      if (answer.ok) {
        registerSecret(answer.token.accessToken);
        registerSecret(answer.token.refreshToken);
      }
      return answer;
    },
    close: () => http.close(),
  };
}
