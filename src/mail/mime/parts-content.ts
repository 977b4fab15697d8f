/**
 * The content of a mail from what an IMAP FETCH brought: its header and the text parts its plan
 * named (mime-plan.ts), each decoded in place (text-part.ts). No message is rebuilt and parsed
 * again: the BODYSTRUCTURE already told each part's type, charset and transfer encoding.
 */
import type { PlanNode } from '../mime-plan.js';
import { composeText, type TextLeaf } from './compose.js';
import { headerLines, type MailContent } from './content.js';
import { decodeTextPart } from './text-part.js';

const EMPTY = Buffer.alloc(0);

/** mailparser's limit (mailsplit MAX_CHILD_NODES): a mail of more parts is hostile, not read */
export const MAX_PARTS = 1000;

/** Throws for a mail of more than MAX_PARTS planned parts (the listener records it unreadable). */
export function partsContent(header: Buffer, root: PlanNode | undefined, parts: ReadonlyMap<string, Buffer>): MailContent {
  const leaves: TextLeaf[] = [];
  const attached: Array<() => Promise<MailContent>> = [];
  if (root) {
    if (countNodes(root) > MAX_PARTS) throw new Error(`Max allowed child nodes exceeded (more than ${MAX_PARTS} parts)`);
    walk(root, false, parts, leaves, attached);
  }
  return { headerLines: headerLines(header.toString('latin1')), ...composeText(leaves), attached };
}

function walk(node: PlanNode, alternative: boolean, parts: ReadonlyMap<string, Buffer>, leaves: TextLeaf[], attached: Array<() => Promise<MailContent>>): void {
  switch (node.kind) {
    case 'leaf': {
      if (node.disposition !== undefined && node.disposition !== 'inline') return;
      const type = node.type === 'text/html' ? 'text/html' : 'text/plain';
      leaves.push({ type, text: decodeTextPart(parts.get(node.section.toLowerCase()) ?? EMPTY, { type, encoding: node.encoding, params: lowerKeys(node.params) }), alternative });
      return;
    }
    case 'multipart':
      for (const child of node.children) walk(child, alternative || node.type === 'multipart/alternative', parts, leaves, attached);
      return;
    case 'message': {
      if (node.disposition === 'inline') {
        walk(node.body, alternative, parts, leaves, attached);
        return;
      }
      const header = parts.get(node.headerSection.toLowerCase()) ?? EMPTY;
      attached.push(async () => partsContent(header, node.body, parts));
      return;
    }
  }
}

function countNodes(node: PlanNode): number {
  if (node.kind === 'leaf') return 1;
  if (node.kind === 'multipart') return 1 + node.children.reduce((n, c) => n + countNodes(c), 0);
  return 1 + countNodes(node.body);
}

function lowerKeys(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) out[k.toLowerCase()] = v;
  return out;
}
