/**
 * Which parts of a message extraction needs, from its BODYSTRUCTURE. Only inline text/plain and
 * text/html parts and attached messages (message/rfc822, recursively) are fetched; a 20 MB
 * attachment is never downloaded. Pure: read-chunk.ts plans, has fetch-message.ts bring the
 * sections, and mime/parts-content.ts decodes them in place (no message is rebuilt).
 */
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
