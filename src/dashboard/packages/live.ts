/**
 * The live feed: server-sent events carrying the page's fragments (inbox health, state counts,
 * the table) re-rendered every interval, so the page updates without reloading and without a
 * front-end framework: the browser script only swaps them in. One read of Redis per interval
 * per open page; the feed stops when the page goes away.
 */
import type { Request, Response } from 'express';
import { maskText } from '../../log/secrets.js';
import { renderCounts, renderInboxes, renderTable, type RenderContext } from './html.js';
import { loadPackagesView, type PackagesSource } from './source.js';
import type { PageQuery } from './view-model.js';

export interface LiveOptions {
  source: PackagesSource;
  intervalMs: number;
  context: (query: PageQuery) => RenderContext;
  onError: (err: unknown) => void;
}

async function liveFragments(source: PackagesSource, ctx: RenderContext): Promise<{ inboxes: string; counts: string; table: string; at: string }> {
  const view = await loadPackagesView(source, ctx.query);
  return { inboxes: renderInboxes(view, ctx.now), counts: renderCounts(view, ctx.query), table: renderTable(view, ctx), at: ctx.now.toISOString() };
}

export function serveLive(req: Request, res: Response, query: PageQuery, options: LiveOptions): void {
  res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  res.write(`retry: ${Math.max(1000, options.intervalMs * 2)}\n\n`);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      const fragments = await liveFragments(options.source, options.context(query));
      // masked as a whole once more, as the page is
      if (!closed) res.write(`event: update\ndata: ${maskText(JSON.stringify(fragments))}\n\n`);
    } catch (err) {
      options.onError(err);
      if (!closed) res.write(`event: trouble\ndata: ${JSON.stringify({ message: 'cannot read the queue right now; retrying' })}\n\n`);
    }
    if (!closed) timer = setTimeout(() => void tick(), options.intervalMs);
  };
  req.on('close', () => {
    closed = true;
    clearTimeout(timer);
  });
  void tick();
}
