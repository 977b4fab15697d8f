/**
 * Fault switches: what the simulated server does instead of (or before) answering normally.
 * Set per package or globally (`'*'`), for the package description (default) or for issue-token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorPage, HUGE_FILL, HUGE_HEAD, loginPage, xmlBomb } from './documents.js';

export type SimFault =
  /** 200 with the HTML login page (what a bad passcode gets) */
  | { kind: 'html-login'; on?: FaultScope }
  /** the link has expired: answered like a bad passcode (200 + login page) */
  | { kind: 'expired'; on?: FaultScope }
  /** this status, with an HTML error page */
  | { kind: 'status'; status: number; on?: FaultScope }
  /** wait before answering normally; phase 'body' sends the headers and part of the body first, then stalls */
  | { kind: 'slow'; delayMs: number; phase?: 'headers' | 'body'; on?: FaultScope }
  /** 200 with a "billion laughs" DOCTYPE */
  | { kind: 'xml-bomb'; on?: FaultScope }
  /** 200 with a body of `bytes` (default 10 MB), streamed chunked (no Content-Length) unless declareLength */
  | { kind: 'huge'; bytes?: number; declareLength?: boolean; on?: FaultScope }
  /** the package description has no `<link>` (deleted package) */
  | { kind: 'no-link'; on?: FaultScope }
  /** 302: to the login page on this server, or to any absolute URL */
  | { kind: 'redirect'; to: 'login' | string; status?: 301 | 302 | 303 | 307 | 308; on?: FaultScope }
  /** tokens are minted already expired (the fake ascp refuses them: refresh path) */
  | { kind: 'expired-token'; on?: FaultScope }
  /** the connection is destroyed without an answer */
  | { kind: 'reset'; on?: FaultScope };

export type FaultScope = 'description' | 'issue-token' | 'any';

export function appliesTo(fault: SimFault, endpoint: 'description' | 'issue-token'): boolean {
  const on = fault.on ?? 'description';
  return on === 'any' || on === endpoint;
}

export interface FaultContext {
  prefix: string;
  origin: string;
  timers: Set<NodeJS.Timeout>;
}

/**
 * Writes the fault's answer and returns true, or returns false when the normal answer should
 * follow (after `slow` headers, or for faults that only change the content: no-link, expired-token).
 */
export async function applyFault(fault: SimFault, req: IncomingMessage, res: ServerResponse, ctx: FaultContext): Promise<boolean> {
  switch (fault.kind) {
    case 'html-login':
    case 'expired':
      send(res, 200, 'text/html; charset=utf-8', loginPage(ctx.prefix));
      return true;
    case 'status':
      send(res, fault.status, 'text/html; charset=utf-8', errorPage(fault.status, `Error ${fault.status}`),
        fault.status === 401 ? { 'www-authenticate': 'Basic realm="Faspex"' } : {});
      return true;
    case 'redirect': {
      const location = fault.to === 'login' ? `${ctx.origin}${ctx.prefix}/login?redirect_to=${encodeURIComponent(req.url ?? '/')}` : fault.to;
      send(res, fault.status ?? 302, 'text/html; charset=utf-8', `<html><body>You are being <a href="${location}">redirected</a>.</body></html>`, { location });
      return true;
    }
    case 'xml-bomb':
      send(res, 200, 'application/xml; charset=utf-8', xmlBomb());
      return true;
    case 'huge':
      await streamHuge(res, fault.bytes ?? 10 * 1024 * 1024, fault.declareLength ?? false);
      return true;
    case 'reset':
      req.socket.destroy();
      return true;
    case 'slow':
      if (fault.phase === 'body') {
        res.writeHead(200, { 'content-type': 'application/xml; charset=utf-8' });
        res.write(HUGE_HEAD);
        await delay(fault.delayMs, res, ctx.timers);
        res.end('</title></entry>\n');
        return true;
      }
      await delay(fault.delayMs, res, ctx.timers);
      return res.destroyed;
    case 'no-link':
    case 'expired-token':
      return false;
  }
}

export function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Resolves after `ms`, or as soon as the client goes away (so close() never waits on it). */
function delay(ms: number, res: ServerResponse, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      timers.delete(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timers.add(timer);
    res.once('close', done);
  });
}

/** Writes honestly, respecting back-pressure, and stops the moment the client gives up. */
async function streamHuge(res: ServerResponse, bytes: number, declareLength: boolean): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/xml; charset=utf-8', ...(declareLength ? { 'content-length': String(bytes) } : {}) });
  const fill = Buffer.from(HUGE_FILL.repeat(64));
  let sent = 0;
  const write = (chunk: Buffer) => {
    sent += chunk.length;
    return res.write(chunk);
  };
  write(Buffer.from(HUGE_HEAD));
  while (sent < bytes && !res.destroyed) {
    const chunk = fill.subarray(0, Math.min(fill.length, bytes - sent));
    if (!write(chunk)) {
      await new Promise<void>((resolve) => {
        const go = () => {
          res.off('drain', go);
          res.off('close', go);
          resolve();
        };
        res.once('drain', go);
        res.once('close', go);
      });
    }
  }
  if (!res.destroyed) res.end();
}
