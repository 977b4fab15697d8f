/**
 * A raw message read for extraction without a full MIME parse: split at its boundaries, only
 * the inline text parts decoded (text-part.ts), attached messages kept to be read when
 * extraction opens them; images and files are skipped without being decoded. What mailparser
 * does with the same message is the reference (compose.ts): inline message/rfc822 parts are
 * merged into the text, attached ones are not, a part without a Content-Type is text/plain
 * (message/rfc822 in a multipart/digest), a text part with any disposition but inline is an
 * attachment.
 *
 * Returns undefined for a structure it does not take on (a multipart without a boundary, or
 * whose boundary never occurs, nesting past MAX_NESTING, more than MAX_PARTS parts): the caller
 * then lets mailparser read the message, whose tolerance for broken mail (and refusal of
 * hostile mail) is the reference.
 */
import { composeText, type TextLeaf } from './compose.js';
import { headerLines, headerValue, type HeaderLine, type MailContent } from './content.js';
import { parseHeaderValue } from './header-value.js';
import { decodeQuotedPrintable, decodeTextPart } from './text-part.js';

const MAX_NESTING = 16;
/** mailparser's limit (mailsplit MAX_CHILD_NODES); past it, mailparser reads the mail and refuses it */
const MAX_PARTS = 1000;

export type ReadAttached = (raw: Buffer) => Promise<MailContent>;

export function readMime(raw: Buffer, readAttached: ReadAttached): MailContent | undefined {
  const s = raw.toString('latin1');
  const root = entity(s, 0, s.length, 'text/plain');
  const leaves: TextLeaf[] = [];
  const attached: Array<() => Promise<MailContent>> = [];
  if (!walk({ raw, s, leaves, attached, readAttached, nodes: 0 }, root, false, 0)) return undefined;
  return { headerLines: root.lines, ...composeText(leaves), attached };
}

interface Entity {
  lines: HeaderLine[];
  type: string;
  params: Record<string, string>;
  encoding: string | undefined;
  disposition: string | undefined;
  bodyStart: number;
  bodyEnd: number;
}

interface Walk {
  raw: Buffer;
  s: string;
  leaves: TextLeaf[];
  attached: Array<() => Promise<MailContent>>;
  readAttached: ReadAttached;
  nodes: number;
}

function entity(s: string, start: number, end: number, defaultType: string): Entity {
  let headerEnd = end;
  let bodyStart = end;
  const blank = /^\r?\n/.exec(s.slice(start, start + 2));
  if (blank) {
    // no header fields at all: the body starts at once
    headerEnd = start;
    bodyStart = start + blank[0].length;
  } else {
    const re = /\r?\n\r?\n/g;
    re.lastIndex = start;
    const m = re.exec(s);
    if (m && m.index < end) {
      headerEnd = m.index;
      bodyStart = Math.min(end, m.index + m[0].length);
    }
  }
  const lines = headerLines(s.slice(start, headerEnd));
  const contentType = parse(headerValue(lines, 'content-type'));
  const disposition = parse(headerValue(lines, 'content-disposition'));
  const type = contentType?.value.includes('/') ? contentType.value : defaultType;
  return { lines, type, params: contentType?.params ?? {}, encoding: headerValue(lines, 'content-transfer-encoding')?.toLowerCase(), disposition: disposition?.value || undefined, bodyStart, bodyEnd: end };
}

function parse(value: string | undefined): { value: string; params: Record<string, string> } | undefined {
  if (value === undefined) return undefined;
  const parsed = parseHeaderValue(value);
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed.params)) params[k.toLowerCase()] = v;
  return { value: parsed.value.trim().toLowerCase(), params };
}

function walk(w: Walk, e: Entity, alternative: boolean, depth: number): boolean {
  if (depth > MAX_NESTING || ++w.nodes > MAX_PARTS) return false;
  if (e.type.startsWith('multipart/')) {
    const parts = splitMultipart(w.s, e);
    if (!parts) return false;
    const childType = e.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    const inner = alternative || e.type === 'multipart/alternative';
    for (const [start, end] of parts) if (!walk(w, entity(w.s, start, end, childType), inner, depth + 1)) return false;
    return true;
  }
  const inline = e.disposition === undefined || e.disposition === 'inline';
  if (e.type === 'message/rfc822') {
    const body = transferDecoded(w.raw.subarray(e.bodyStart, e.bodyEnd), e.encoding);
    if (e.disposition === 'inline') {
      // merged into this message's text, as mailparser does; its own header is not a link's place
      const s = body.toString('latin1');
      const inner: Walk = { ...w, raw: body, s };
      const ok = walk(inner, entity(s, 0, s.length, 'text/plain'), alternative, depth + 1);
      w.nodes = inner.nodes;
      return ok;
    }
    w.attached.push(() => w.readAttached(body));
    return true;
  }
  if (inline && (e.type === 'text/plain' || e.type === 'text/html' || e.type === 'message/delivery-status')) {
    const type = e.type === 'text/html' ? 'text/html' : 'text/plain';
    w.leaves.push({ type, text: decodeTextPart(w.raw.subarray(e.bodyStart, e.bodyEnd), { type, encoding: e.encoding, params: e.params }), alternative });
  }
  return true;
}

/** [start, end) of each part between `--boundary` lines; undefined when the boundary never occurs. */
function splitMultipart(s: string, e: Entity): Array<[number, number]> | undefined {
  const boundary = e.params.boundary;
  if (!boundary) return undefined;
  const delimiter = `--${boundary}`;
  const parts: Array<[number, number]> = [];
  let partStart = -1;
  let at = e.bodyStart;
  for (;;) {
    const i = s.indexOf(delimiter, at);
    if (i < 0 || i >= e.bodyEnd) break;
    at = i + delimiter.length;
    // a delimiter starts a line
    if (i !== e.bodyStart && s.charCodeAt(i - 1) !== 0x0a) continue;
    const closing = s.startsWith('--', at);
    const lineEnd = s.indexOf('\n', at);
    const rest = s.slice(closing ? at + 2 : at, lineEnd < 0 ? e.bodyEnd : lineEnd);
    // `--boundary` followed by anything but blanks is another boundary that starts with this one
    if (rest.trim() !== '') continue;
    const before = i === e.bodyStart ? i : s.charCodeAt(i - 2) === 0x0d ? i - 2 : i - 1;
    if (partStart >= 0) parts.push([partStart, Math.max(partStart, before)]);
    if (closing) {
      partStart = -1;
      break;
    }
    partStart = lineEnd < 0 ? e.bodyEnd : Math.min(e.bodyEnd, lineEnd + 1);
  }
  // no closing delimiter: the last part runs to the end, as mailparser reads it
  if (partStart >= 0) parts.push([partStart, e.bodyEnd]);
  return parts.length ? parts : undefined;
}

function transferDecoded(body: Buffer, encoding: string | undefined): Buffer {
  if (encoding === 'base64') return Buffer.from(body.toString('latin1'), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body.toString('latin1'));
  return body;
}
