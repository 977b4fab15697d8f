/**
 * One Faspex 5 API client at work (FASPEX5_CLIENTS entry): its access token, its GETs, its boxes.
 *  - token: the JWT bearer grant (faspex5-auth.ts), kept in Redis for every process of the
 *    service (src/http/shared-token.ts) until shortly before the token's own `exp`; a 401 on an
 *    API call drops it and the call is made once more with a new one;
 *  - a refused grant is remembered in the server's own words (`loginRefused`), for /healthz and
 *    the box health, and thrown as AUTH_FAILED;
 *  - boxes: a shared inbox or workgroup is looked up once by exact name among the user's boxes
 *    (`q` search); a box the user may only submit to answers 403 when listed: BOX_SUBMIT_ONLY;
 *  - listing: every page of a box (offset/limit/total_count), capped (faspex5-list.ts).
 * Every request goes through the Faspex HTTP client (allowlist, proxy, CA, deadline, cap).
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { IngestError, permanent } from '../errors.js';
import { SharedTokenCache } from '../http/shared-token.js';
import type { Logger } from '../log/logger.js';
import { registerSecret } from '../log/secrets.js';
import { accessTokenExpiry, FORM_TYPE, jwtTokenForm, readAccessToken, refusalWords } from './faspex5-auth.js';
import { boxLabel, boxListPath, type BoxSpec, type ResolvedBox } from './faspex5-box-spec.js';
import type { Faspex5ApiClient } from './faspex5-clients.js';
import { jwtAssertion, loadPrivateKey } from './faspex5-jwt.js';
import { nextOffset, PAGE_LIMIT, pickBox, readBoxes, readListPage, type ListedPackage } from './faspex5-list.js';
import { XML_MAX_BYTES, type FaspexHttp } from './http.js';

const JSON_TYPE = 'application/json';
/** List pages are bigger than one package's description. */
const LIST_MAX_BYTES = 16 * 1024 * 1024;

export interface Faspex5SessionDeps {
  http: FaspexHttp;
  client: Faspex5ApiClient;
  logger: Logger;
  /** shares the access token between processes (without: per process) */
  redis?: Redis | Cluster | undefined;
  prefix?: string;
  readFile?: (path: string) => string;
}

export interface ListFilter {
  status?: string;
  /** ISO; only for boxes whose endpoint knows it (boxHasChangedSince) */
  changedSince?: string;
}

export class Faspex5Session {
  readonly baseUrl: string;
  readonly host: string;
  /** the server's words when it last refused the JWT grant; cleared by the next success */
  loginRefused: string | undefined;
  private readonly tokens: SharedTokenCache;

  constructor(private readonly d: Faspex5SessionDeps) {
    this.baseUrl = `https://${d.client.server}/aspera/faspex`;
    this.host = d.client.server;
    if (d.client.clientSecret !== undefined) registerSecret(d.client.clientSecret);
    const id = createHash('sha256').update(JSON.stringify([d.client.server, d.client.clientId, d.client.user])).digest('hex').slice(0, 24);
    this.tokens = new SharedTokenCache({ redis: d.redis, key: `${d.prefix ?? 'faspex-ingest'}:faspex5-token:${id}`, marginMs: 2 * 60_000 });
  }

  get client(): Faspex5ApiClient {
    return this.d.client;
  }

  /** An access token for the API client's user: cached, or a new JWT grant. */
  async token(signal?: AbortSignal): Promise<string> {
    return (await this.tokens.get(() => this.grant(signal))).accessToken;
  }

  /** Runs `call` with the token's headers; a 401 drops the token and runs it once more. */
  async authorised<T>(call: (headers: Record<string, string>) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const first = await this.token(signal);
    try {
      return await call({ authorization: `Bearer ${first}`, accept: JSON_TYPE });
    } catch (err) {
      if (statusOf(err) !== 401) throw err;
      await this.tokens.drop(first);
      const second = await this.token(signal);
      return call({ authorization: `Bearer ${second}`, accept: JSON_TYPE });
    }
  }

  async getJson(path: string, query: Record<string, string> = {}, signal?: AbortSignal, maxBytes = XML_MAX_BYTES): Promise<unknown> {
    const q = new URLSearchParams(query).toString();
    const url = `${this.baseUrl}/api/v5/${path}${q ? `?${q}` : ''}`;
    const res = await this.authorised((headers) => this.d.http.request({ method: 'GET', url, what: `the v5 API (${path.replace(/\/\d+\//, '/<id>/')})`, headers, maxBytes, signal }), signal);
    try {
      return JSON.parse(res.body);
    } catch {
      throw permanent('BAD_RESPONSE', `Faspex server ${this.host} answered ${path} with something that is not JSON`, { host: this.host });
    }
  }

  /** The user's account (its id picks the user's recipient entry). */
  async account(signal?: AbortSignal): Promise<{ id?: string; name?: string; email?: string }> {
    const json = (await this.getJson('account', {}, signal)) as Record<string, unknown> | null;
    const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
    return { id: str(json?.id), name: str(json?.name), email: str(json?.email) };
  }

  /** The box with its id: the own inbox as is, a shared inbox or workgroup by exact name. */
  async findBox(spec: BoxSpec, signal?: AbortSignal): Promise<ResolvedBox> {
    if (spec.kind === 'inbox') return { kind: 'inbox' };
    const path = spec.kind === 'shared_inbox' ? 'shared_inboxes' : 'workgroups';
    const json = await this.getJson(path, { q: spec.name ?? '', limit: '1000', offset: '0' }, signal);
    return pickBox(json, spec, this.host, this.d.client.user);
  }

  /** Every shared inbox and workgroup the user is in. */
  async memberBoxes(signal?: AbortSignal): Promise<ResolvedBox[]> {
    const [shared, groups] = await Promise.all([
      this.getJson('shared_inboxes', { limit: '1000', offset: '0' }, signal),
      this.getJson('workgroups', { limit: '1000', offset: '0' }, signal),
    ]);
    return [...readBoxes(shared, 'shared_inbox'), ...readBoxes(groups, 'workgroup')];
  }

  /** Every package of a box the filter lets through, all pages. */
  async listBox(box: ResolvedBox, filter: ListFilter = {}, signal?: AbortSignal): Promise<ListedPackage[]> {
    const held: ListedPackage[] = [];
    // the server's offsets count every entry, readable or not
    let seen = 0;
    const query: Record<string, string> = { limit: String(PAGE_LIMIT) };
    if (filter.status) query.status = filter.status;
    if (filter.changedSince) query.changed_since_date = filter.changedSince;
    for (let offset: number | undefined = 0; offset !== undefined;) {
      let json: unknown;
      try {
        json = await this.getJson(boxListPath(box), { ...query, offset: String(offset) }, signal, LIST_MAX_BYTES);
      } catch (err) {
        throw this.listRefused(err, box);
      }
      const page = readListPage(json, this.host);
      held.push(...page.packages);
      seen += page.packages.length + page.unreadable;
      offset = nextOffset(seen, page.packages.length + page.unreadable, page.total);
    }
    return held;
  }

  private listRefused(err: unknown, box: ResolvedBox): unknown {
    const status = statusOf(err);
    const label = boxLabel(box);
    if (status === 403 && box.kind !== 'inbox') {
      return permanent('BOX_SUBMIT_ONLY', `user ${this.d.client.user} may not read box ${label} on ${this.host} (403: a submit-only member cannot list or download its packages); ask the Faspex admin for standard access, or remove it from FASPEX5_CLIENTS "boxes"`, { host: this.host, status });
    }
    if (status === 404 && box.kind !== 'inbox') return permanent('BOX_UNKNOWN', `box ${label} is gone from ${this.host} (404)`, { host: this.host, status });
    return err;
  }

  private async grant(signal?: AbortSignal) {
    const c = this.d.client;
    const assertion = jwtAssertion({ clientId: c.clientId, user: c.user, key: loadPrivateKey(c, this.d.readFile) });
    const res = await this.d.http.request({
      method: 'POST', url: `${this.baseUrl}/auth/token`, what: 'an access token (JWT)', body: jwtTokenForm(c.clientId, assertion, c.clientSecret),
      headers: { 'content-type': FORM_TYPE, accept: JSON_TYPE }, signal, errors: 'return',
    });
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      this.loginRefused = refusalWords(res.body, res.status);
      throw permanent('AUTH_FAILED',
        `Faspex server ${this.host} refused the JWT of API client ${c.clientId} for user ${c.user} (${this.loginRefused}): check FASPEX5_CLIENTS, ` +
        "that JWT is enabled for this API client, and that the key's public half is registered for the user", { host: this.host, status: res.status });
    }
    if (res.status >= 400) {
      throw new IngestError(res.status >= 500 || res.status === 429 ? 'SERVER_ERROR' : 'BAD_RESPONSE', `Faspex server ${this.host} answered the token request with ${res.status}`,
        { retry: res.status >= 500 || res.status === 429 ? 'later' : 'never', details: { host: this.host, status: res.status } });
    }
    const now = Date.now();
    const accessToken = readAccessToken(res.body, this.host);
    this.loginRefused = undefined;
    this.d.logger.debug({ server: this.host, user: c.user }, 'faspex 5: obtained an access token');
    return { accessToken, expiresAt: accessTokenExpiry(res.body, accessToken, now) };
  }
}

export function statusOf(err: unknown): number | undefined {
  const status = err instanceof IngestError ? err.details.status : undefined;
  return typeof status === 'number' ? status : undefined;
}
