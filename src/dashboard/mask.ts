/**
 * Job data holds Faspex links with their passcodes, mail subjects and, on failure, messages
 * that may quote a link. bull-board's formatters only reach `data`, `name`, `returnValue` and
 * `progress`; failed reasons, stack traces, logs, options and flow trees go out untouched. So
 * masking happens twice: the formatters make the UI read well, and every JSON body the board
 * sends passes through `maskBody` on its way out, whatever route or error produced it.
 */
import type { RequestHandler } from 'express';
import { MASK, isSecretKey, maskDeep, maskLink, maskText } from '../log/secrets.js';

/** The `data` formatter: the link is masked as a link, everything else by shape and value. */
export function formatJobData(data: unknown): unknown {
  const masked = maskDeep(data);
  if (masked && typeof masked === 'object' && !Array.isArray(masked) && typeof (masked as { link?: unknown }).link === 'string') {
    const withLink = masked as { link: string };
    return { ...withLink, link: maskLink(withLink.link) };
  }
  return masked;
}

/**
 * Masks a JSON-bound value with no depth limit (maskDeep stops at 12 levels to stay cheap on
 * logs; a flow tree or a nested job payload may go deeper). Round-tripping through JSON first
 * turns dates, errors and class instances into exactly what would have been sent.
 */
export function maskBody(body: unknown): unknown {
  if (body === undefined) return body;
  return walk(JSON.parse(JSON.stringify(body)) as unknown);
}

function walk(value: unknown): unknown {
  if (typeof value === 'string') return maskText(value);
  if (Array.isArray(value)) return value.map(walk);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v !== null && v !== '' ? MASK : walk(v);
    }
    return out;
  }
  return value;
}

/** Express middleware: every `res.json` below it sends a masked body. */
export const maskJsonResponses: RequestHandler = (_req, res, next) => {
  const json = res.json.bind(res);
  res.json = (body?: unknown) => json(maskBody(body));
  next();
};
