/**
 * Faspex 4: from a package link to a TransferSpec with a token (faspex-protocol.md §1–3).
 *
 *   external_deliveries/<id>?passcode=  GET the XML (no account)  → FASP URL, normally with a token
 *   received/<id>                       GET the XML (Basic auth)  → FASP URL without a token
 *   faspe://…                           the FASP URL itself
 *
 * then, when the FASP URL carries no token ("only external users get token in link"), POST it
 * to issue-token with the account's credentials.
 */
import { isHostAllowed } from './allowlist.js';
import type { FaspexConfig } from '../config/config.js';
import { IngestError, permanent } from '../errors.js';
import { parseFaspUrl } from '../fasp/fasp-url.js';
import type { TransferSpec } from '../fasp/transfer-spec.js';
import type { Logger } from '../log/logger.js';
import { registerSecret } from '../log/secrets.js';
import {
  derivedBaseUrl,
  externalDescriptionRequest,
  fromDescription,
  fromFaspUrl,
  issueTokenRequest,
  readIssuedToken,
  receivedDescriptionRequest,
  type Credentials,
  type PlannedRequest,
} from './faspex4-requests.js';
import { TEXT_MAX_BYTES, XML_MAX_BYTES, type FaspexHttp } from './http.js';
import type { PackageLink } from './link.js';
import type { ResolvedPackage } from './resolved-package.js';

export interface Faspex4ClientDeps {
  http: FaspexHttp;
  config: FaspexConfig;
  logger: Logger;
}

export interface Faspex4Client {
  resolve(link: PackageLink, signal?: AbortSignal): Promise<ResolvedPackage>;
}

export function createFaspex4Client({ http, config, logger }: Faspex4ClientDeps): Faspex4Client {
  const credentials = (): Credentials | undefined => {
    if (config.username === undefined || config.password === undefined) return undefined;
    registerSecret(config.password);
    return { username: config.username, password: config.password };
  };
  const requireCredentials = (why: string): Credentials => {
    const creds = credentials();
    if (creds) return creds;
    throw permanent('CREDENTIALS_MISSING', `${why}: set FASPEX_USERNAME and FASPEX_PASSWORD to the Faspex account that received the package`);
  };

  async function fetchDescription(planned: PlannedRequest, link: PackageLink, signal?: AbortSignal) {
    const res = await http.request({ ...planned, what: 'the package description', maxBytes: XML_MAX_BYTES, signal });
    // fast-xml-parser with the first description, not at start: an idle run parses no XML
    const { readPackageXml } = await import('./faspex4-xml.js');
    return readPackageXml(res.body, { deliveryId: link.packageId });
  }

  /** The FASP URL's spec, with a token: the one it carries, or one issued for it. */
  async function withToken(faspUrl: string, baseUrl: string, why: string, signal?: AbortSignal): Promise<TransferSpec> {
    const spec = parseFaspUrl(faspUrl);
    if (spec.token) return spec;
    const creds = requireCredentials(`${why} carries no transfer token, and asking Faspex for one (issue-token) needs an account`);
    const planned = issueTokenRequest(baseUrl, faspUrl, creds);
    const res = await http.request({ ...planned, what: 'a transfer token (issue-token)', maxBytes: TEXT_MAX_BYTES, signal });
    const token = readIssuedToken(res.body, res.url.host);
    logger.debug({ host: res.url.host }, 'faspex 4: transfer token issued');
    return { ...spec, token };
  }

  async function external(link: PackageLink, signal?: AbortSignal): Promise<ResolvedPackage> {
    if (link.passcode) registerSecret(link.passcode);
    let pkg;
    try {
      pkg = await fetchDescription(externalDescriptionRequest(link), link, signal);
    } catch (err) {
      // No credentials were sent: a 401 here is about the link, not FASPEX_USERNAME.
      if (err instanceof IngestError && err.code === 'AUTH_FAILED') {
        throw permanent('LINK_EXPIRED', `Faspex server ${link.server} refused the link (401): it has expired, was already used, or the passcode is wrong`, err.details);
      }
      throw err;
    }
    const spec = await withToken(pkg.packageUrl, link.baseUrl, "the package's transfer link", signal);
    return fromDescription(link, pkg, spec);
  }

  async function received(link: PackageLink, signal?: AbortSignal): Promise<ResolvedPackage> {
    const creds = requireCredentials(`this is a link to a registered user's inbox (received/${link.packageId})`);
    const pkg = await fetchDescription(receivedDescriptionRequest(link, creds), link, signal);
    const spec = await withToken(pkg.packageUrl, link.baseUrl, "the package's transfer link", signal);
    return fromDescription(link, pkg, spec);
  }

  async function faspUrl(link: PackageLink, signal?: AbortSignal): Promise<ResolvedPackage> {
    const spec = parseFaspUrl(link.url);
    // A raw faspe:// link (from a mail or the command line) sends ascp straight to its host:
    // that host must be allowed like any web link. (FASP URLs an allowed Faspex server hands
    // back are trusted, transfer host and all.)
    if (!isHostAllowed(spec.remote_host, config.allowedHosts)) {
      throw permanent('HOST_NOT_ALLOWED', `the transfer host ${spec.remote_host} of this faspe:// link is not in FASPEX_ALLOWED_HOSTS, so nothing was transferred`);
    }
    if (spec.token) return fromFaspUrl(link, spec);
    // A raw FASP URL names only the transfer host; the web side is assumed on the same host at
    // the standard path. The allowlist still decides whether it may be contacted.
    const base = link.baseUrl || derivedBaseUrl(spec.remote_host, config.allowedHosts);
    try {
      return fromFaspUrl(link, await withToken(link.url, base, 'this faspe:// link', signal));
    } catch (err) {
      if (err instanceof IngestError && err.code === 'HOST_NOT_ALLOWED') {
        throw permanent('HOST_NOT_ALLOWED',
          `this faspe:// link carries no transfer token; a token would be asked of the Faspex web server assumed at ${base}, ` +
          `but ${new URL(base).host} is not in FASPEX_ALLOWED_HOSTS, so nothing was fetched (use the package's https:// link instead, or allow that host)`,
          err.details);
      }
      throw err;
    }
  }

  return {
    async resolve(link, signal) {
      switch (link.kind) {
        case 'faspex4-external':
          return external(link, signal);
        case 'faspex4-received':
          return received(link, signal);
        case 'fasp-url':
          return faspUrl(link, signal);
        default:
          throw permanent('LINK_INVALID', `the Faspex 4 client cannot resolve a ${link.kind} link`);
      }
    },
  };
}
