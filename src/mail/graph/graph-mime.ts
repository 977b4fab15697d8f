/**
 * A Graph message (JSON) as the small MIME message decide.ts reads, as mime-plan.ts renders the
 * parts of an IMAP mail: the original header fields (internetMessageHeaders, so the sender
 * policy sees Authentication-Results), else From/Subject/Message-ID/Date from the properties;
 * the body (text or HTML, as Graph has it); and each attached message (an itemAttachment's item)
 * as message/rfc822, which is how a forwarded notification arrives. No file attachment is
 * fetched or rendered. Pure; values from the mailbox never break out of their header line.
 */
import { randomBytes } from 'node:crypto';

export interface GraphAddress {
  emailAddress?: { name?: string | null; address?: string | null } | null;
}

export interface GraphMessage {
  id?: string;
  internetMessageId?: string | null;
  subject?: string | null;
  from?: GraphAddress | null;
  sender?: GraphAddress | null;
  receivedDateTime?: string | null;
  sentDateTime?: string | null;
  body?: { contentType?: string | null; content?: string | null } | null;
  internetMessageHeaders?: Array<{ name?: string | null; value?: string | null }> | null;
}

/** Headers ours replace (the body is re-encoded) or that would confuse a reader of the small message. */
const DROPPED = /^(content-type|content-transfer-encoding|content-disposition|mime-version)$/i;

export function renderGraphMessage(message: GraphMessage, attached: readonly GraphMessage[] = []): Buffer {
  const head = headerOf(message);
  const body = bodyPart(message);
  if (attached.length === 0) return Buffer.from(`${head}MIME-Version: 1.0\r\n${body}`, 'utf8');
  const boundary = `=_fi_${randomBytes(12).toString('hex')}`;
  const parts = [body, ...attached.map((m) => `Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n${headerOf(m)}MIME-Version: 1.0\r\n${bodyPart(m)}`)];
  return Buffer.from(`${head}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`, 'utf8');
}

function headerOf(m: GraphMessage): string {
  const original = (m.internetMessageHeaders ?? []).filter((h) => typeof h.name === 'string' && /^[!-9;-~]+$/.test(h.name) && !DROPPED.test(h.name));
  const lines: string[] = original.map((h) => `${h.name}: ${oneLine(h.value ?? '')}`);
  const has = (name: string) => original.some((h) => h.name!.toLowerCase() === name);
  const from = m.from ?? m.sender;
  if (!has('from') && from?.emailAddress?.address) lines.push(`From: ${address(from)}`);
  if (!has('subject') && m.subject) lines.push(`Subject: ${encoded(m.subject)}`);
  if (!has('message-id') && m.internetMessageId) lines.push(`Message-ID: ${oneLine(m.internetMessageId)}`);
  const date = m.receivedDateTime ?? m.sentDateTime;
  if (!has('date') && date && !Number.isNaN(Date.parse(date))) lines.push(`Date: ${new Date(date).toUTCString().replace('GMT', '+0000')}`);
  return lines.map((l) => `${l}\r\n`).join('');
}

function bodyPart(m: GraphMessage): string {
  const html = (m.body?.contentType ?? '').toLowerCase() === 'html';
  const content = m.body?.content ?? '';
  // base64 at 76 columns: any byte of the body is safe, whatever its lines look like
  const b64 = (Buffer.from(content, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
  return `Content-Type: ${html ? 'text/html' : 'text/plain'}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
}

function address(a: GraphAddress): string {
  const addr = oneLine(a.emailAddress?.address ?? '').replace(/[<>\s]/g, '');
  const name = a.emailAddress?.name;
  return name ? `${encoded(name)} <${addr}>` : `<${addr}>`;
}

/** RFC 2047 for anything beyond printable ASCII (or a quote), so mailparser reads it back exactly. */
function encoded(text: string): string {
  const flat = oneLine(text);
  return /^[\x20-\x7e]*$/.test(flat) && !/[<>"]/.test(flat) ? flat : `=?UTF-8?B?${Buffer.from(flat, 'utf8').toString('base64')}?=`;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\0]+/g, ' ');
}
