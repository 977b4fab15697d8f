/**
 * What the simulated Faspex 4 server writes: FASP URLs, package XML, HTML pages, and the hostile
 * bodies used by faults. Shapes follow faspex-protocol.md §2.2 and §4 (constructed, not captured:
 * no real document was available).
 */
import { mintToken } from '../sim-token.js';
import type { SimPackage } from './store.js';

export interface FaspTarget {
  host: string;
  sshPort: number;
  udpPort: number;
  user: string;
}

/** Parameters in the order a real Faspex 4 writes them (token only for external recipients). */
export function faspUrl(pkg: SimPackage, target: FaspTarget, token?: string, subPath = ''): string {
  const segments = `${pkg.sourcePath}${subPath}`.split('/').map(encodeURIComponent).join('/');
  const params: Array<[string, string]> = [['cookie', pkg.cookie]];
  if (token !== undefined) params.push(['token', token]);
  const defaults: Record<string, string> = {
    port: String(target.udpPort), policy: 'fair', targetrate: '100000', minrate: '0', enc: 'aes128',
    createpath: 'yes', fallback: 'no', auth: 'yes', v: '2',
  };
  for (const [k, v] of Object.entries({ ...defaults, ...pkg.faspParams })) params.push([k, v]);
  const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `faspe://${target.user}@${target.host}:${target.sshPort}${segments}?${query}`;
}

export function tokenFor(path: string, secret: string, ttlMs: number): string {
  return mintToken({ path, exp: Date.now() + ttlMs }, secret);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface XmlOptions {
  /** mint a token into each FASP URL (external recipients); undefined: no token */
  token?: (path: string) => string;
  /** the package was deleted: no `<link>` at all */
  noLink?: boolean;
}

export function packageXml(pkg: SimPackage, target: FaspTarget, opts: XmlOptions): string {
  const to = pkg.recipients
    .map((r) => `<to><name>${esc(r.name)}</name><recipient_delivery_id>${r.recipientDeliveryId}</recipient_delivery_id></to>`)
    .join('');
  const fields = Object.entries(pkg.metadata).map(([k, v]) => `<fx:field name="${esc(k)}">${esc(v)}</fx:field>`).join('');
  let links = '';
  if (!opts.noLink) {
    links += `<link rel="package" href="${esc(faspUrl(pkg, target, opts.token?.(pkg.sourcePath)))}"/>`;
    if (pkg.fileLinks) {
      for (const f of pkg.files) {
        const href = faspUrl(pkg, target, opts.token?.(`${pkg.sourcePath}/${f.path}`), `/${f.path}`);
        links += `<link rel="content" href="${esc(href)}" title="${esc(f.path)}" length="${f.size}"/>`;
      }
    }
  }
  // A default namespace and a prefixed one: the client must read local names only.
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<entry xmlns="http://www.w3.org/2005/Atom" xmlns:fx="http://schemas.asperasoft.com/xml/faspex">',
    `<id>urn:uuid:${pkg.uuid}</id>`,
    `<title>${esc(pkg.title)}</title>`,
    `<delivery_id>${pkg.deliveryId}</delivery_id>`,
    `<from><name>${esc(pkg.sender)}</name></from>`,
    to,
    pkg.note !== undefined ? `<note>${esc(pkg.note)}</note>` : '',
    fields ? `<fx:metadata>${fields}</fx:metadata>` : '',
    links,
    '</entry>',
    '',
  ].join('\n');
}

export function loginPage(prefix: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><title>IBM Aspera Faspex - Log in</title></head>',
    `<body><form action="${prefix}/session" method="post">`,
    '<input name="user[username]"><input type="password" name="user[password]"><button>Log in</button>',
    '</form></body></html>',
    '',
  ].join('\n');
}

export function errorPage(status: number, text: string): string {
  return `<!DOCTYPE html>\n<html><head><title>${status} ${esc(text)}</title></head><body><h1>${esc(text)}</h1></body></html>\n`;
}

/** "Billion laughs": ten levels of ten references, 10^9 `lol`s if anything expanded it. */
export function xmlBomb(): string {
  const lines = ['<?xml version="1.0"?>', '<!DOCTYPE lolz [', '<!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) lines.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
  lines.push(']>', '<entry><title>&lol9;</title><link rel="package" href="faspe://x@127.0.0.1:33001/&lol9;"/></entry>', '');
  return lines.join('\n');
}

/** The opening of a valid-looking package description, padded to any size by the caller. */
export const HUGE_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<entry><title>';
export const HUGE_FILL = `${'A'.repeat(1023)}\n`;
