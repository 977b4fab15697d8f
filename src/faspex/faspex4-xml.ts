/**
 * Reads a Faspex 4 package description (the XML behind `external_deliveries/<id>` and
 * `received/<id>`, faspex-protocol.md §2.2). Pure: text in, facts out.
 *
 * No real document was ever available, so this reads by local element names only, ignores
 * namespaces, accepts a single entry-like root or a `<feed>` of `<entry>`, and needs nothing but
 * `link[@rel="package"]/@href`; everything else is optional.
 *
 * Hostile input: entity expansion is off and any DOCTYPE is refused before parsing (a "billion
 * laughs" document cannot expand); the caller caps the size while it streams.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { permanent } from '../errors.js';

export interface Faspex4Recipient {
  name: string;
  recipientDeliveryId?: string;
}

export interface Faspex4Link {
  rel: string;
  href: string;
  title?: string;
  /** bytes, from an Atom-style `length` attribute, when present */
  length?: number;
}

export interface Faspex4Package {
  id?: string;
  title?: string;
  deliveryId?: string;
  recipients: Faspex4Recipient[];
  metadata: Record<string, string>;
  sender?: string;
  note?: string;
  /** the FASP URL of the whole package (`rel="package"`), entities decoded, otherwise verbatim */
  packageUrl: string;
  /** the other links: per-file FASP URLs and the like */
  fileLinks: Faspex4Link[];
}

export interface ReadOptions {
  /** in a feed, the entry with this delivery id or recipient delivery id */
  deliveryId?: string;
}

type Node = Record<string, unknown>;

const ATTR = '@_';
const NOT_FILE_RELS = new Set(['package', 'next', 'previous', 'prev', 'self', 'first', 'last', 'alternate', 'via', 'related']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  removeNSPrefix: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => ['link', 'to', 'field', 'entry'].includes(name),
});

const WEB_PAGE = /^(?:<!--[\s\S]*?-->\s*)*(?:<!doctype\s+html|<html[\s>])/i;

export function readPackageXml(xml: string, options: ReadOptions = {}): Faspex4Package {
  const text = xml.replace(/^\uFEFF/, '').trimStart();
  if (WEB_PAGE.test(text)) throw webPage();
  if (!text.startsWith('<')) {
    throw permanent('BAD_RESPONSE', 'the server answered with something that is not XML instead of the package description');
  }
  // Refused outright, not merely left unexpanded: no package description needs a DTD.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    throw permanent('BAD_RESPONSE', 'the package description declares a DOCTYPE or entities, which is refused (such documents can be built to exhaust memory)');
  }
  // The parser itself forgives unclosed elements; a truncated answer must not pass as complete.
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw permanent('BAD_RESPONSE', `the package description is not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  }
  let doc: Node;
  try {
    doc = parser.parse(text) as Node;
  } catch (e) {
    throw permanent('BAD_RESPONSE', `the package description is not well-formed XML: ${(e as Error).message.split('\n')[0]}`);
  }
  const rootName = Object.keys(doc).find((k) => !k.startsWith('?') && !k.startsWith('#'));
  if (!rootName) throw permanent('BAD_RESPONSE', 'the package description is an empty XML document');
  if (rootName.toLowerCase() === 'html') throw webPage();
  const root = asNode(doc[rootName]);
  const entry = rootName === 'feed' ? pickEntry(root, options) : root;
  return readEntry(entry);
}

function webPage() {
  return permanent('LINK_EXPIRED',
    'the server answered with a web page instead of the package description: the link has expired, was already used, or the passcode is wrong');
}

function pickEntry(feed: Node, options: ReadOptions): Node {
  const entries = asArray(feed.entry).map(asNode);
  if (entries.length === 0) throw noLink('the package list is empty');
  if (options.deliveryId) {
    const wanted = options.deliveryId;
    const match = entries.find((e) => text(e.delivery_id) === wanted || asArray(e.to).some((t) => text(asNode(t).recipient_delivery_id) === wanted));
    if (match) return match;
    throw permanent('NOT_FOUND', `the package list has no package with delivery id ${wanted}`);
  }
  return entries.find((e) => links(e).some((l) => l.rel === 'package')) ?? entries[0]!;
}

function readEntry(entry: Node): Faspex4Package {
  const all = links(entry);
  const pkg = all.find((l) => l.rel === 'package');
  if (!pkg || pkg.href === '') throw noLink();
  const recipients = asArray(entry.to)
    .map(asNode)
    .map((t) => ({ name: text(t.name) ?? text(t) ?? '', recipientDeliveryId: text(t.recipient_delivery_id) }))
    .filter((r) => r.name !== '' || r.recipientDeliveryId !== undefined);
  const metadata: Record<string, string> = {};
  for (const field of asArray(asNode(entry.metadata).field).map(asNode)) {
    const name = attr(field, 'name');
    if (name) metadata[name] = text(field) ?? '';
  }
  return {
    id: text(entry.id),
    title: text(entry.title),
    deliveryId: text(entry.delivery_id),
    recipients,
    metadata,
    sender: person(entry.from) ?? person(entry.sender) ?? person(entry.author),
    note: text(entry.note) ?? text(entry.summary),
    packageUrl: pkg.href,
    fileLinks: all.filter((l) => !NOT_FILE_RELS.has(l.rel) && l.href !== ''),
  };
}

function noLink(why = 'the package has no download link') {
  return permanent('PACKAGE_DELETED', `${why}: it was probably deleted, or its content expired on the server`);
}

function links(entry: Node): Faspex4Link[] {
  return asArray(entry.link).map(asNode).map((l) => {
    const length = Number(attr(l, 'length'));
    return {
      rel: (attr(l, 'rel') ?? '').toLowerCase(),
      href: (attr(l, 'href') ?? '').trim(),
      ...(attr(l, 'title') !== undefined ? { title: attr(l, 'title') } : {}),
      ...(Number.isSafeInteger(length) && length >= 0 && attr(l, 'length') !== undefined ? { length } : {}),
    };
  });
}

/** `<from><name>x</name></from>`, `<sender>x</sender>`, Atom `<author><name>`/`<email>`. */
function person(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const n = asNode(Array.isArray(value) ? value[0] : value);
  return text(n.name) ?? text(n.email) ?? text(value);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function asNode(value: unknown): Node {
  if (Array.isArray(value)) return asNode(value[0]);
  if (value && typeof value === 'object') return value as Node;
  if (typeof value === 'string') return { '#text': value };
  return {};
}

function attr(node: Node, name: string): string | undefined {
  const v = node[ATTR + name];
  return typeof v === 'string' ? decodeEntities(v) : undefined;
}

/** Text content of an element (decoded entities, CDATA verbatim); undefined when empty. */
function text(value: unknown): string | undefined {
  if (Array.isArray(value)) return text(value[0]);
  if (typeof value === 'string') return nonEmpty(decodeEntities(value));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object') {
    const n = value as Node;
    const parts: string[] = [];
    if (typeof n['#text'] === 'string' || typeof n['#text'] === 'number') parts.push(decodeEntities(String(n['#text'])));
    for (const c of asArray(n['#cdata'])) if (typeof c === 'string') parts.push(c);
    return nonEmpty(parts.join(''));
  }
  return undefined;
}

function nonEmpty(s: string): string | undefined {
  const t = s.trim();
  return t === '' ? undefined : t;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * The five predefined XML entities and character references, in ONE pass (so `&amp;lt;` stays
 * `&lt;`). Entity processing is off in the parser; this is all XML itself defines.
 */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#x([0-9a-f]{1,6})|#([0-9]{1,7})|([a-z]+));/gi, (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED[name.toLowerCase() === name ? name : ''] ?? whole;
    const code = hex !== undefined ? parseInt(hex, 16) : Number(dec);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}
