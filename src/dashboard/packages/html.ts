/**
 * The packages page as HTML, server-rendered: readable without JavaScript, and the live feed
 * (live.ts) sends the same fragments to replace in place. Every value is HTML-escaped; every
 * row string was masked by the view model, and the whole document is masked once more on its
 * way out (routes.ts), so a secret that slipped into a job still never reaches the page.
 */
import type { InboxStatus } from '../../mail/inbox-status.js';
import type { PackagesView } from './source.js';
import { SHOWN_STATES, formatAgo, formatBytes, formatDuration, formatRate, queryString, type PackageRow, type PageQuery } from './view-model.js';

export const ASSETS = '/packages/assets';

export interface RenderContext {
  query: PageQuery;
  readOnly: boolean;
  /** the form token for retry/remove */
  csrf: string;
  now: Date;
  /** where bull-board's queue page is */
  boardHref: string;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);
}

const MODE_WORDS: Record<InboxStatus['mode'], string> = { idle: 'IDLE (mail is pushed)', poll: 'polling (no IDLE on the server)', standby: 'standby' };

/** Polling is a choice of Microsoft Graph's (delta queries), a lack on an IMAP server (no IDLE). */
function modeWords(s: Pick<InboxStatus, 'mode' | 'source'>): string {
  return s.source === 'graph' && s.mode === 'poll' ? 'polling Microsoft Graph for changes' : MODE_WORDS[s.mode];
}

export function renderInboxes(view: Pick<PackagesView, 'inboxes' | 'inboxesError'>, now: Date): string {
  if (view.inboxesError) return '<p class="inbox inbox-down"><span class="dot"></span> Inbox health cannot be read from Redis right now.</p>';
  if (view.inboxes.length === 0) return '<p class="inbox inbox-none"><span class="dot"></span> No inbox is reporting: no mail listener is running (no inbox configured: IMAP_HOST, MAIL_SOURCE=graph or MAILBOXES_FILE; or <code>listen</code> not started).</p>';
  return view.inboxes
    .map((s) => {
      const health = s.connected ? `connected · ${esc(modeWords(s))}` : s.mode === 'standby' ? `standby: ${esc(s.reason ?? '')}` : `not connected: ${esc(s.reason ?? 'unknown reason')}`;
      const facts = [
        ['last mail seen', formatAgo(s.lastMailSeenAt, now)],
        ['last mail queued', formatAgo(s.lastMailQueuedAt, now)],
        ['backlog', `${s.backlog} mail${s.backlog === 1 ? '' : 's'}`],
      ]
        .map(([k, v]) => `<span class="fact"><span class="k">${esc(k)}</span> ${esc(v)}</span>`)
        .join('');
      const cls = s.connected ? 'inbox-up' : s.mode === 'standby' ? 'inbox-standby' : 'inbox-down';
      return `<div class="inbox ${cls}" data-inbox="${esc(s.inbox)}"><span class="dot" aria-hidden="true"></span><span class="inbox-name">${esc(s.label)}</span><span class="inbox-health">${health}</span><span class="facts">${facts}</span></div>`;
    })
    .join('');
}

export function renderCounts(view: Pick<PackagesView, 'counts'>, query: PageQuery): string {
  const all = SHOWN_STATES.reduce((n, s) => n + view.counts[s], 0);
  const chip = (label: string, n: number, show: PageQuery['show'], cls: string) => {
    const on = show.length === query.show.length && show.every((s) => query.show.includes(s));
    return `<a class="chip ${cls}${on ? ' on' : ''}" href="/${esc(queryString(query, { show, page: 1 }))}"${on ? ' aria-current="true"' : ''}>${esc(label)} <b>${n}</b></a>`;
  };
  return [chip('all', all, [], 'st-all'), ...SHOWN_STATES.map((s) => chip(s, view.counts[s], [s], `st-${s}`))].join('');
}

function progressCell(r: PackageRow): string {
  const p = r.progress;
  if (!p) return r.state === 'done' ? '<span class="muted">complete</span>' : '<span class="muted">—</span>';
  const bar = p.total ? `<progress value="${p.bytes}" max="${p.total}" aria-label="${esc(`${p.percent ?? 0}% downloaded`)}">${p.percent ?? 0}%</progress>` : '<progress aria-label="downloading, size unknown"></progress>';
  const amount = `${formatBytes(p.bytes)}${p.total ? ` of ${formatBytes(p.total)}` : ''}`;
  const eta = p.etaSeconds === null ? '' : ` · ${p.etaSeconds === 0 ? 'finishing' : `${formatDuration(p.etaSeconds)} left`}`;
  return `${bar}<span class="prog-text"><span class="pct">${p.percent === null ? '' : `${p.percent}% · `}</span>${esc(amount)} · ${esc(formatRate(p.rateBps))}${esc(eta)}</span>`;
}

function actions(r: PackageRow, ctx: RenderContext): string {
  if (ctx.readOnly) return '';
  const back = esc(queryString(ctx.query));
  const form = (what: 'retry' | 'remove', label: string, cls: string) =>
    `<form method="post" action="/packages/${esc(encodeURIComponent(r.id))}/${what}"><input type="hidden" name="csrf" value="${esc(ctx.csrf)}"><input type="hidden" name="back" value="${back}"><button type="submit" class="${cls}">${label}</button></form>`;
  return [r.canRetry ? form('retry', 'Retry', 'btn') : '', r.canRemove ? form('remove', 'Remove', 'btn btn-quiet') : ''].join('');
}

function row(r: PackageRow, ctx: RenderContext): string {
  const failure = r.failure ? `<div class="failure"><span class="headline">${esc(r.failure.headline)}</span>${r.failure.detail ? ` <span class="detail">${esc(r.failure.detail)}</span>` : ''}</div>` : '';
  const attempts = r.attempts > 0 || r.state === 'failed' ? `${r.attempts} of ${r.maxAttempts}` : '—';
  // on a phone the row becomes a card: cells with nothing to say are left out there (.none)
  const none = (empty: boolean) => (empty ? ' none' : '');
  return `<tr class="row st-${r.state}" data-id="${esc(r.id)}">
<td class="c-title" data-label="Package"><div class="title">${esc(r.title)}</div><div class="sender">${esc(r.sender ?? '')}${r.foundBySweep ? ` <span class="badge sweep" title="no mail announced it before the sweep">${esc(r.foundBySweep)}</span>` : ''}</div>${failure}</td>
<td class="c-server" data-label="Server">${esc(r.server ?? '—')}</td>
<td class="c-arrived" data-label="Arrived"><time datetime="${esc(r.arrivedAt)}" title="${esc(r.arrivedAt)}">${esc(formatAgo(r.arrivedAt, ctx.now))}</time></td>
<td class="c-size num${none(r.size === null)}" data-label="Size">${esc(formatBytes(r.size))}</td>
<td class="c-state" data-label="State"><span class="badge st-${r.state}">${esc(r.stateWords)}</span></td>
<td class="c-progress${none(!r.progress && r.state !== 'done')}" data-label="Progress">${progressCell(r)}</td>
<td class="c-attempts num${none(attempts === '—')}" data-label="Attempts">${esc(attempts)}</td>
<td class="c-folder${none(!r.folder)}" data-label="Folder">${r.folder ? `<code title="${esc(r.folder)}">${esc(r.folderName)}</code>` : '<span class="muted">—</span>'}</td>
<td class="c-actions" data-label="">${actions(r, ctx)}</td>
</tr>`;
}

export function renderTable(view: Pick<PackagesView, 'rows' | 'total' | 'page' | 'pages' | 'truncated'>, ctx: RenderContext): string {
  const { query } = ctx;
  const body = view.rows.length
    ? view.rows.map((r) => row(r, ctx)).join('\n')
    : `<tr class="empty"><td colspan="9">${query.show.length || query.server || query.search ? 'No package matches these filters.' : 'No packages yet. They appear here as soon as a notification mail is read.'}</td></tr>`;
  const pager =
    view.pages > 1
      ? `<nav class="pager" aria-label="pages">${view.page > 1 ? `<a href="/${esc(queryString(query, { page: view.page - 1 }))}" rel="prev">← newer</a>` : '<span></span>'}<span>page ${view.page} of ${view.pages} · ${view.total} packages</span>${view.page < view.pages ? `<a href="/${esc(queryString(query, { page: view.page + 1 }))}" rel="next">older →</a>` : '<span></span>'}</nav>`
      : `<p class="pager"><span>${view.total} package${view.total === 1 ? '' : 's'}</span></p>`;
  const note = view.truncated ? '<p class="note">A word of the search is the start of very many words, so some matches may be missing: type more of it.</p>' : '';
  return `<table class="packages">
<thead><tr><th>Package</th><th>Server</th><th>Arrived</th><th class="num">Size</th><th>State</th><th>Progress</th><th class="num">Attempts</th><th>Folder</th><th><span class="sr">Actions</span></th></tr></thead>
<tbody>
${body}
</tbody>
</table>
${pager}${note}`;
}

function filters(view: Pick<PackagesView, 'servers'>, query: PageQuery): string {
  const opt = (value: string, label: string, selected: boolean) => `<option value="${esc(value)}"${selected ? ' selected' : ''}>${esc(label)}</option>`;
  const servers = [...new Set([...view.servers, ...(query.server ? [query.server] : [])])];
  return `<form class="filters" method="get" action="/" role="search">
<label>State <select name="show">${opt('', 'all', query.show.length === 0)}${SHOWN_STATES.map((s) => opt(s, s, query.show.length === 1 && query.show[0] === s)).join('')}</select></label>
<label>Server <select name="server">${opt('', 'all', !query.server)}${servers.map((s) => opt(s, s, query.server === s)).join('')}</select></label>
<label class="grow">Search <input type="search" name="q" value="${esc(query.search ?? '')}" placeholder="title or sender"></label>
<button type="submit" class="btn">Filter</button>
</form>`;
}

export function renderPage(view: PackagesView, ctx: RenderContext, notice?: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Packages · faspex-ingest</title>
<link rel="stylesheet" href="${ASSETS}/packages.css">
<script src="${ASSETS}/packages.js" defer></script>
</head>
<body>
<header class="top"><h1>faspex-ingest <span>packages</span></h1><nav><a href="${esc(ctx.boardHref)}">Queue internals (bull-board) →</a></nav></header>
<main>
${notice ? `<p class="notice" role="status">${esc(notice)}</p>` : ''}
<section id="inboxes" class="inboxes" aria-label="Inbox health">${renderInboxes(view, ctx.now)}</section>
<nav id="counts" class="counts" aria-label="States">${renderCounts(view, ctx.query)}</nav>
${filters(view, ctx.query)}
<div id="table" class="table-wrap" data-live="/packages/live${esc(queryString(ctx.query))}">${renderTable(view, ctx)}</div>
<p class="updated">Updated <time id="updated" datetime="${ctx.now.toISOString()}">${esc(ctx.now.toISOString().slice(11, 19))} UTC</time><noscript> · reload the page for fresh figures</noscript></p>
</main>
</body>
</html>
`;
}
