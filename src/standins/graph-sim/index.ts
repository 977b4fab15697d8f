/**
 * A stand-in for Microsoft Graph's mail API (HTTPS with the test CA), enough of it for one
 * mail reader, behaving as Microsoft documents it, failures included:
 *  - every request needs a bearer JWT whose RS256 signature verifies with the token service's
 *    key, unexpired, `aud` Graph's (https://graph.microsoft.com or its app id), `tid` this
 *    tenant, and a `roles` claim with Mail.ReadWrite (Mail.Read for reading): else 401
 *    InvalidAuthenticationToken or 403 ErrorAccessDenied, as Graph answers;
 *  - a mailbox outside the application access policy: 403 ErrorAccessDenied "[RAOP] … AppOnly
 *    AccessPolicy"; an unknown one: 404 ErrorInvalidUser;
 *  - messages/delta with $select (an unknown property is a 400), `Prefer: odata.maxpagesize`
 *    (default 10), @odata.nextLink pages and a final @odata.deltaLink; expired tokens: 410;
 *  - throttling: 429 with Retry-After on demand, and whenever more than 4 requests for one
 *    mailbox run at once (Outlook's MailboxConcurrency limit);
 *  - messages by id with $select, attachments listed (file bytes only when selected), an item
 *    attachment with $expand=microsoft.graph.itemattachment/item, categories by PATCH, move by
 *    POST, mail folders by $filter=displayName eq '…' and created by POST.
 * Every request is recorded (method, path, status) for assertions.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getTestCa } from '../test-ca.js';
import { MailboxStore, decodeState, encodeState, type SimMessage } from './mailbox-store.js';

export { MailboxStore } from './mailbox-store.js';

export const GRAPH_AUDIENCES = ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'];
const MESSAGE_PROPERTIES = new Set(['id', 'internetMessageId', 'subject', 'from', 'sender', 'receivedDateTime', 'sentDateTime', 'body', 'bodyPreview', 'internetMessageHeaders', 'categories', 'hasAttachments', 'isRead', 'parentFolderId', 'changeKey']);
const ATTACHMENT_PROPERTIES = new Set(['id', 'name', 'contentType', 'size', 'isInline', 'lastModifiedDateTime', 'contentBytes']);

export interface SimMail {
  subject: string;
  from?: { name?: string; address: string };
  /** HTML unless text is given */
  html?: string;
  text?: string;
  messageId?: string;
  headers?: Array<{ name: string; value: string }>;
  /** the notification forwarded as an attachment (an Outlook item attachment) */
  attachedMessage?: { subject: string; from?: { name?: string; address: string }; html?: string; text?: string; messageId?: string };
  /** a file attached beside it (never to be downloaded by the reader) */
  fileAttachment?: { name: string; bytes: number };
  categories?: string[];
}

export interface GraphRequestRecord {
  method: string;
  path: string;
  status: number;
  mailbox: string | undefined;
}

export interface GraphSim {
  /** https://127.0.0.1:PORT (GRAPH_BASE_URL) */
  readonly baseUrl: string;
  readonly caFile: string;
  readonly requests: GraphRequestRecord[];
  /** bytes of file attachments served (a reader of text only keeps this at 0) */
  readonly fileBytesServed: number;
  mailbox(address: string): MailboxStore;
  deliver(address: string, mail: SimMail, folder?: string): SimMessage;
  /** mailboxes the application access policy lets apps read (default: every mailbox added) */
  setAccessPolicy(addresses: string[] | undefined): void;
  /** the next `count` requests get 429 with this Retry-After */
  throttle(count: number, retryAfterS: number): void;
  /** every delta token handed out so far now answers 410 syncStateNotFound */
  expireDeltaTokens(): void;
  /** tests: `fn` sees each request (method, path without query) before it is answered; undefined stops it */
  beforeAnswer(fn: ((method: string, path: string) => void) | undefined): void;
  close(): Promise<void>;
}

class GraphHttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}
const fail = (status: number, code: string, message: string, headers?: Record<string, string>): never => {
  throw new GraphHttpError(status, code, message, headers);
};

export async function startGraphSim(o: { tenant: string; signingKeyPem: string }): Promise<GraphSim> {
  const ca = await getTestCa();
  const key: KeyObject = createPublicKey(o.signingKeyPem);
  const boxes = new Map<string, MailboxStore>();
  const requests: GraphRequestRecord[] = [];
  let policy: Set<string> | undefined;
  let throttled = { count: 0, retryAfterS: 1 };
  let generation = 0;
  let fileBytesServed = 0;
  const inFlight = new Map<string, number>();
  let baseUrl = '';
  let beforeAnswer: ((method: string, path: string) => void) | undefined;

  const mailboxOf = (address: string) => {
    const lower = address.toLowerCase();
    let box = boxes.get(lower);
    if (!box) boxes.set(lower, (box = new MailboxStore(lower)));
    return box;
  };

  function authorise(req: IncomingMessage, write: boolean): void {
    const header = req.headers.authorization ?? '';
    const token = /^Bearer (.+)$/.exec(header)?.[1];
    if (!token) fail(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const parts = token!.split('.');
    if (parts.length !== 3) fail(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed, there are no dots (.).');
    let claims: Record<string, unknown> = {};
    try {
      const head = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: string };
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      if (head.alg !== 'RS256' || !verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2]!, 'base64url'))) throw new Error('signature');
    } catch {
      fail(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) fail(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    if (!GRAPH_AUDIENCES.includes(String(claims.aud))) fail(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    if (claims.tid !== o.tenant) fail(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid issuer or tenant.');
    const roles = Array.isArray(claims.roles) ? (claims.roles as unknown[]).map(String) : [];
    const allowed = write ? roles.includes('Mail.ReadWrite') : roles.includes('Mail.ReadWrite') || roles.includes('Mail.Read');
    if (!allowed) fail(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
  }

  function selected(select: string | null, allowed: Set<string>): string[] | undefined {
    if (select === null) return undefined;
    const props = select.split(',').map((p) => p.trim()).filter(Boolean);
    for (const p of props) if (!allowed.has(p)) fail(400, 'RequestBroker--ParseUri', `Could not find a property named '${p}' on type 'microsoft.graph.message'.`);
    return props;
  }

  function view(m: SimMessage, props: string[] | undefined): Record<string, unknown> {
    const full: Record<string, unknown> = {
      '@odata.type': '#microsoft.graph.message', id: m.id, internetMessageId: m.internetMessageId, subject: m.subject, from: m.from, sender: m.from,
      receivedDateTime: m.receivedDateTime, sentDateTime: m.receivedDateTime, body: m.body, bodyPreview: m.body.content.slice(0, 255), internetMessageHeaders: m.internetMessageHeaders,
      categories: m.categories, hasAttachments: m.hasAttachments, isRead: m.isRead, parentFolderId: m.folderId, changeKey: String(m.seq),
    };
    if (!props) {
      // as Graph: internetMessageHeaders only when selected
      delete full.internetMessageHeaders;
      return full;
    }
    return Object.fromEntries(Object.entries(full).filter(([k]) => k === 'id' || k === '@odata.type' || props.includes(k)));
  }

  function delta(box: MailboxStore, folderRef: string, url: URL, req: IncomingMessage): unknown {
    const skip = url.searchParams.get('$skiptoken');
    const deltaToken = url.searchParams.get('$deltatoken');
    const max = Number(/odata\.maxpagesize=(\d+)/.exec(String(req.headers.prefer ?? ''))?.[1] ?? 10);
    let state;
    if (skip !== null || deltaToken !== null) {
      state = decodeState((skip ?? deltaToken)!);
      if (!state) fail(400, 'ErrorInvalidUrlQuery', 'The delta token is malformed.');
      if (state!.generation !== generation) fail(410, 'SyncStateNotFound', 'The sync state generation is not found. Restart the synchronization without the delta token.');
      // a delta link starts a new round: everything after the last one, up to now
      if (deltaToken !== null) state = { ...state!, since: state!.upTo, upTo: box.now, after: 0 };
    } else {
      const folder = box.folder(folderRef) ?? fail(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      state = { folderId: folder.id, since: 0, upTo: box.now, after: 0, select: url.searchParams.get('$select') ?? undefined, generation };
    }
    const props = selected(state!.select ?? null, MESSAGE_PROPERTIES);
    const all = box.changes(state!.folderId, state!.since, state!.upTo, state!.after);
    const slice = all.slice(0, Math.max(1, Math.min(max, 1000)));
    const value = slice.map(({ entry: e }) => ('removed' in e ? { '@odata.type': '#microsoft.graph.message', id: e.removed, '@removed': { reason: 'deleted' } } : view(e.message, props)));
    const link = `${baseUrl}/v1.0/users/${encodeURIComponent(box.address)}/mailFolders/${encodeURIComponent(folderRef)}/messages/delta`;
    const more = slice.length < all.length;
    return more
      ? { '@odata.context': `${baseUrl}/v1.0/$metadata#Collection(message)`, '@odata.nextLink': `${link}?$skiptoken=${encodeState({ ...state!, after: slice.at(-1)!.seq })}`, value }
      : { '@odata.context': `${baseUrl}/v1.0/$metadata#Collection(message)`, '@odata.deltaLink': `${link}?$deltatoken=${encodeState({ ...state!, after: 0 })}`, value };
  }

  async function route(req: IncomingMessage, res: ServerResponse, record: GraphRequestRecord): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const m = /^\/v1\.0\/users\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) fail(400, 'BadRequest', `Invalid version or resource: ${url.pathname}`);
    const address = decodeURIComponent(m![1]!).toLowerCase();
    record.mailbox = address;
    const rest = m![2] ?? '';
    const method = req.method ?? 'GET';
    if (throttled.count > 0) {
      throttled.count--;
      fail(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': String(throttled.retryAfterS) });
    }
    authorise(req, method !== 'GET');
    const box = boxes.get(address) ?? fail(404, 'ErrorInvalidUser', `The requested user '${address}' is invalid.`);
    if (policy && !policy.has(address)) fail(403, 'ErrorAccessDenied', 'Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.');
    const body = method === 'GET' ? undefined : await readJson(req);
    let g: RegExpExecArray | null;
    if (method === 'GET' && (g = /^\/mailFolders\/([^/]+)\/messages\/delta$/.exec(rest))) return json(res, 200, delta(box!, decodeURIComponent(g[1]!), url, req));
    if (method === 'GET' && (g = /^\/mailFolders(?:\/([^/]+)\/childFolders)?$/.exec(rest))) {
      const parent = g[1] ? box!.folder(decodeURIComponent(g[1])) ?? fail(404, 'ErrorItemNotFound', 'The specified object was not found in the store.') : undefined;
      const name = /^displayName eq '((?:[^']|'')*)'$/.exec(url.searchParams.get('$filter') ?? '')?.[1]?.replace(/''/g, "'");
      const value = [...box!.folders.values()].filter((f) => f.parentFolderId === parent?.id && (name === undefined || f.displayName === name)).map((f) => ({ id: f.id, displayName: f.displayName, parentFolderId: f.parentFolderId }));
      return json(res, 200, { value });
    }
    if (method === 'POST' && rest === '/mailFolders') {
      const displayName = String((body as { displayName?: unknown }).displayName ?? '');
      if (!displayName) fail(400, 'ErrorInvalidRequest', 'displayName is required.');
      if ([...box!.folders.values()].some((f) => f.parentFolderId === undefined && f.displayName === displayName)) fail(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
      const f = box!.addFolder(displayName, undefined);
      return json(res, 201, { id: f.id, displayName: f.displayName });
    }
    g = /^\/messages\/([^/]+)(\/.*)?$/.exec(rest);
    if (!g) fail(400, 'BadRequest', `Resource not found for the segment '${rest}'.`);
    const message = box!.messages.get(decodeURIComponent(g![1]!)) ?? fail(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    const sub = g![2] ?? '';
    if (method === 'GET' && sub === '') return json(res, 200, view(message!, selected(url.searchParams.get('$select'), MESSAGE_PROPERTIES)));
    if (method === 'PATCH' && sub === '') {
      const categories = (body as { categories?: unknown }).categories;
      if (!Array.isArray(categories) || categories.some((c) => typeof c !== 'string')) fail(400, 'ErrorInvalidProperty', 'categories must be a collection of strings.');
      message!.categories = categories as string[];
      box!.touch(message!);
      return json(res, 200, view(message!, undefined));
    }
    if (method === 'POST' && sub === '/move') {
      const to = box!.folder(String((body as { destinationId?: unknown }).destinationId ?? '')) ?? fail(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
      box!.move(message!, to!);
      return json(res, 201, view(message!, undefined));
    }
    if (method === 'GET' && sub === '/attachments') {
      const props = selected(url.searchParams.get('$select'), ATTACHMENT_PROPERTIES);
      const value = message!.attachments.map((a) => {
        const full: Record<string, unknown> = { '@odata.type': a.type, id: a.id, name: a.name, contentType: a.contentType, size: a.size, isInline: false };
        if (a.type === '#microsoft.graph.fileAttachment' && (!props || props.includes('contentBytes'))) {
          full.contentBytes = a.contentBytes;
          fileBytesServed += a.size;
        }
        return props ? Object.fromEntries(Object.entries(full).filter(([k]) => k === '@odata.type' || k === 'id' || props.includes(k) || k === 'contentBytes')) : full;
      });
      return json(res, 200, { value });
    }
    if (method === 'GET' && (g = /^\/attachments\/([^/]+)$/.exec(sub))) {
      const a = message!.attachments.find((x) => x.id === decodeURIComponent(g![1]!)) ?? fail(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const out: Record<string, unknown> = { '@odata.type': a!.type, id: a!.id, name: a!.name, contentType: a!.contentType, size: a!.size };
      if (a!.type === '#microsoft.graph.fileAttachment') {
        out.contentBytes = a!.contentBytes;
        fileBytesServed += a!.size;
      } else if (url.searchParams.get('$expand') === 'microsoft.graph.itemattachment/item') {
        out.item = a!.item;
      }
      return json(res, 200, out);
    }
    fail(405, 'ErrorInvalidRequest', `${method} is not supported on ${rest}`);
  }

  const server: Server = createServer({ key: ca.serverKeyPem, cert: ca.serverCertPem }, (req, res) => {
    const record: GraphRequestRecord = { method: req.method ?? 'GET', path: (req.url ?? '').replace(/\?.*$/, ''), status: 0, mailbox: undefined };
    requests.push(record);
    beforeAnswer?.(record.method, record.path);
    const address = /^\/v1\.0\/users\/([^/?]+)/.exec(req.url ?? '')?.[1]?.toLowerCase();
    const running = (inFlight.get(address ?? '') ?? 0) + 1;
    inFlight.set(address ?? '', running);
    const done = () => inFlight.set(address ?? '', (inFlight.get(address ?? '') ?? 1) - 1);
    res.once('close', done);
    const answer = running > 4
      ? Promise.reject(new GraphHttpError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': '1' }))
      : route(req, res, record);
    answer.then(() => (record.status = res.statusCode)).catch((e: unknown) => {
      if (!(e instanceof GraphHttpError)) {
        record.status = 500;
        return json(res, 500, { error: { code: 'InternalServerError', message: String(e) } });
      }
      record.status = e.status;
      json(res, e.status, { error: { code: e.code, message: e.message, innerError: { date: new Date().toISOString(), 'request-id': `sim-${requests.length}` } } }, e.headers);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let n = 0;
  return {
    baseUrl,
    caFile: ca.caFile,
    requests,
    get fileBytesServed() {
      return fileBytesServed;
    },
    mailbox: mailboxOf,
    beforeAnswer(fn) {
      beforeAnswer = fn;
    },
    deliver(address, mail, folder = 'inbox') {
      const box = mailboxOf(address);
      const f = box.folder(folder) ?? [...box.folders.values()].find((x) => x.displayName === folder);
      if (!f) throw new Error(`no folder ${folder} in ${address}`);
      const now = new Date(Date.now() + n++).toISOString();
      const from = { emailAddress: { name: mail.from?.name ?? 'Faspex', address: mail.from?.address ?? 'faspex@faspex.example.com' } };
      const messageId = mail.messageId ?? `<sim-${n}@graph.example.com>`;
      const attachments: SimMessage['attachments'] = [];
      if (mail.attachedMessage) {
        const a = mail.attachedMessage;
        attachments.push({
          id: `att-${n}-item`, type: '#microsoft.graph.itemAttachment', name: a.subject, contentType: 'message/rfc822', size: (a.html ?? a.text ?? '').length,
          item: {
            '@odata.type': '#microsoft.graph.message', id: '', subject: a.subject, internetMessageId: a.messageId ?? `<sim-${n}-inner@faspex.example.com>`, receivedDateTime: now,
            from: { emailAddress: { name: a.from?.name ?? 'Faspex', address: a.from?.address ?? 'faspex@faspex.example.com' } }, body: a.html !== undefined ? { contentType: 'html', content: a.html } : { contentType: 'text', content: a.text ?? '' },
          },
        });
      }
      if (mail.fileAttachment) {
        attachments.push({ id: `att-${n}-file`, type: '#microsoft.graph.fileAttachment', name: mail.fileAttachment.name, contentType: 'application/octet-stream', size: mail.fileAttachment.bytes, contentBytes: Buffer.alloc(mail.fileAttachment.bytes, 7).toString('base64') });
      }
      return box.add({
        folderId: f.id, receivedDateTime: now, internetMessageId: messageId, subject: mail.subject, from,
        body: mail.html !== undefined || mail.text === undefined ? { contentType: 'html', content: mail.html ?? '' } : { contentType: 'text', content: mail.text },
        internetMessageHeaders: mail.headers ?? [{ name: 'Message-ID', value: messageId }, { name: 'Subject', value: mail.subject }, { name: 'From', value: `${from.emailAddress.name} <${from.emailAddress.address}>` }],
        categories: mail.categories ?? [], hasAttachments: attachments.length > 0, isRead: false, attachments,
      });
    },
    setAccessPolicy(addresses) {
      policy = addresses ? new Set(addresses.map((a) => a.toLowerCase())) : undefined;
    },
    throttle(count, retryAfterS) {
      throttled = { count, retryAfterS };
    },
    expireDeltaTokens() {
      generation++;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > 1024 * 1024) req.destroy(new Error('body too large'));
    });
    req.once('end', () => {
      try {
        resolve(body ? JSON.parse(body) : {});
      } catch {
        reject(new GraphHttpError(400, 'BadRequest', 'Invalid JSON body.'));
      }
    });
    req.once('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; odata.metadata=minimal; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}
