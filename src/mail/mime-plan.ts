/**
 * Which parts of a message extraction needs, from its BODYSTRUCTURE, and how to put them back
 * together as a small MIME message mailparser can read. Only inline text/plain and text/html
 * parts and attached messages (message/rfc822, recursively) are fetched; a 20 MB attachment is
 * never downloaded. Pure: read-chunk.ts plans, has fetch-message.ts bring the sections, then
 * renders here.
 */
import { randomBytes } from 'node:crypto';
import type { MessageStructureObject } from 'imapflow';
import type { MessageMeta } from './types.js';

export type PlanNode =
  | { kind: 'leaf'; section: string; type: string; params: Record<string, string>; encoding: string | undefined; disposition: string | undefined; dispParams: Record<string, string> }
  | { kind: 'multipart'; type: string; params: Record<string, string>; children: PlanNode[] }
  | { kind: 'message'; headerSection: string; body: PlanNode; disposition: string | undefined; dispParams: Record<string, string> };

const TEXT_TYPES = new Set(['text/plain', 'text/html']);

/** One mail's plan and the sections it needs (none: nothing in it can hold a link). */
export interface MailPlan {
  meta: MessageMeta;
  root: PlanNode | undefined;
  sections: string[];
}

export function planMail(meta: MessageMeta, maxDepth = 3): MailPlan {
  const root = meta.structure ? planMessage(meta.structure, maxDepth) : undefined;
  return { meta, root, sections: root ? planSections(root) : [] };
}

/** The plan for a whole message; undefined when nothing in it can hold a link. */
export function planMessage(root: MessageStructureObject, maxDepth = 3): PlanNode | undefined {
  return plan(root, { depth: 0, maxDepth, bodyOfSinglePart: 'TEXT' });
}

interface Ctx {
  depth: number;
  maxDepth: number;
  /** the section that holds the body when this node is a message's only (non-multipart) part */
  bodyOfSinglePart: string;
}

function plan(node: MessageStructureObject, ctx: Ctx): PlanNode | undefined {
  const type = node.type.toLowerCase();
  if (type.startsWith('multipart/')) {
    const children = (node.childNodes ?? []).map((c) => plan(c, { ...ctx, bodyOfSinglePart: '' })).filter((c): c is PlanNode => c !== undefined);
    return children.length ? { kind: 'multipart', type, params: withoutBoundary(node.parameters), children } : undefined;
  }
  // A non-multipart body of a message has the same part number as the message itself in
  // imapflow's tree; IMAP addresses it as <part>.TEXT (or TEXT at the top).
  const section = ctx.bodyOfSinglePart || node.part;
  if (!section) return undefined;
  const disposition = node.disposition?.toLowerCase();
  const dispParams = node.dispositionParameters ?? {};
  if (type === 'message/rfc822' && node.part && node.childNodes?.[0]) {
    if (ctx.depth + 1 > ctx.maxDepth) return undefined;
    const inner = node.childNodes[0];
    const body = plan(inner, { depth: ctx.depth + 1, maxDepth: ctx.maxDepth, bodyOfSinglePart: inner.type.startsWith('multipart/') ? '' : `${node.part}.TEXT` });
    if (!body) return undefined;
    return { kind: 'message', headerSection: `${node.part}.HEADER`, body, disposition, dispParams };
  }
  if (!TEXT_TYPES.has(type) || disposition === 'attachment') return undefined;
  return { kind: 'leaf', section, type, params: node.parameters ?? {}, encoding: node.encoding, disposition, dispParams };
}

function withoutBoundary(params: Record<string, string> | undefined): Record<string, string> {
  const { boundary: _boundary, ...rest } = params ?? {};
  return rest;
}

/** Every section to fetch for a plan (the top-level header is fetched separately). */
export function planSections(node: PlanNode): string[] {
  switch (node.kind) {
    case 'leaf':
      return [node.section];
    case 'multipart':
      return node.children.flatMap(planSections);
    case 'message':
      return [node.headerSection, ...planSections(node.body)];
  }
}

/** The message mailparser will read: the original header fields, then the planned parts. */
export function renderMessage(header: Buffer, root: PlanNode | undefined, parts: ReadonlyMap<string, Buffer>): Buffer {
  const head = stripContentFields(header.toString('binary'));
  if (!root) return Buffer.from(`${head}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n`, 'binary');
  const entity = render(root, parts);
  return Buffer.concat([Buffer.from(`${head}\r\n${entity.head}\r\n`, 'binary'), entity.body]);
}

interface Entity {
  head: string;
  body: Buffer;
}

function render(node: PlanNode, parts: ReadonlyMap<string, Buffer>): Entity {
  switch (node.kind) {
    case 'leaf': {
      const lines = [`Content-Type: ${node.type}${params(node.params)}`];
      if (node.encoding) lines.push(`Content-Transfer-Encoding: ${node.encoding}`);
      if (node.disposition) lines.push(`Content-Disposition: ${node.disposition}${params(node.dispParams)}`);
      return { head: lines.map((l) => `${l}\r\n`).join(''), body: parts.get(node.section.toLowerCase()) ?? Buffer.alloc(0) };
    }
    case 'multipart': {
      const boundary = `=_fi_${randomBytes(12).toString('hex')}`;
      const chunks: Buffer[] = [];
      for (const child of node.children) {
        const e = render(child, parts);
        chunks.push(Buffer.from(`--${boundary}\r\n${e.head}\r\n`, 'binary'), e.body, Buffer.from('\r\n'));
      }
      chunks.push(Buffer.from(`--${boundary}--\r\n`));
      return { head: `Content-Type: ${node.type}${params({ ...node.params, boundary })}\r\n`, body: Buffer.concat(chunks) };
    }
    case 'message': {
      const inner = render(node.body, parts);
      const innerHead = stripContentFields((parts.get(node.headerSection.toLowerCase()) ?? Buffer.alloc(0)).toString('binary'));
      const disposition = node.disposition ?? 'attachment';
      return {
        head: `Content-Type: message/rfc822\r\nContent-Disposition: ${disposition}${params(node.dispParams)}\r\n`,
        body: Buffer.concat([Buffer.from(`${innerHead}\r\n${inner.head}\r\n`, 'binary'), inner.body]),
      };
    }
  }
}

function params(p: Record<string, string>): string {
  return Object.entries(p)
    .map(([k, v]) => `; ${k}="${v.replace(/[\\"]/g, '\\$&').replace(/[\r\n]/g, ' ')}"`)
    .join('');
}

/** The header block without Content-* and MIME-Version fields (ours replace them), no trailing blank line. */
export function stripContentFields(header: string): string {
  const fields = header.replace(/(\r?\n)+$/, '').split(/\r?\n(?![ \t])/);
  return fields
    .filter((f) => f.length > 0 && !/^(content-(type|transfer-encoding|disposition)|mime-version)\s*:/i.test(f))
    .concat('MIME-Version: 1.0')
    .map((f) => f.replace(/\r?\n/g, '\r\n'))
    .join('\r\n');
}
