/**
 * The page's stylesheet and its one small script, served from /packages/assets/. They live in a
 * TypeScript module (not .css/.js files beside it) because the compiled dist/ holds only what
 * tsc emits; the text is exactly what the browser gets.
 */

/** Swaps in the fragments the live feed sends; the page reads fine without it. */
export const PACKAGES_JS = `(() => {
  'use strict';
  const wrap = document.getElementById('table');
  if (!wrap || !window.EventSource) return;
  const last = {};
  const swap = (id, html) => {
    const el = document.getElementById(id);
    if (!el || last[id] === html) return;
    last[id] = html;
    el.innerHTML = html;
  };
  const feed = new EventSource(wrap.dataset.live);
  feed.addEventListener('update', (e) => {
    const f = JSON.parse(e.data);
    swap('inboxes', f.inboxes);
    swap('counts', f.counts);
    swap('table', f.table);
    const t = document.getElementById('updated');
    if (t) { t.dateTime = f.at; t.textContent = f.at.slice(11, 19) + ' UTC'; }
    document.body.classList.remove('stale');
  });
  feed.addEventListener('trouble', () => document.body.classList.add('stale'));
  feed.onerror = () => document.body.classList.add('stale');
})();
`;

export const PACKAGES_CSS = `:root {
  --ink: #1f2933; --muted: #66788a; --line: #e3e8ee; --bg: #f6f8fa; --card: #fff;
  --waiting: #5b6b7f; --downloading: #1d64d8; --retrying: #b45309; --done: #15803d; --failed: #c0262d;
  --up: #15803d; --down: #c0262d; --standby: #b45309;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--downloading); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; color: #3c4a59; }
.top { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; justify-content: space-between; padding: 14px 24px; background: #17212b; color: #fff; }
.top h1 { margin: 0; font-size: 18px; font-weight: 650; letter-spacing: .2px; }
.top h1 span { font-weight: 400; color: #9fb3c8; margin-left: 6px; }
.top a { color: #cfe0f3; }
main { padding: 16px 24px 32px; max-width: 1600px; margin: 0 auto; }
.notice { background: #eaf2fd; border: 1px solid #c5daf7; padding: 8px 12px; border-radius: 6px; margin: 0 0 12px; }

.inboxes { display: grid; gap: 8px; margin-bottom: 14px; }
.inbox { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 16px; margin: 0; padding: 10px 14px; background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--down); border-radius: 6px; }
.inbox .dot { width: 10px; height: 10px; border-radius: 50%; background: var(--down); flex: none; }
.inbox-up { border-left-color: var(--up); } .inbox-up .dot { background: var(--up); box-shadow: 0 0 0 3px #dcf2e3; }
.inbox-standby { border-left-color: var(--standby); } .inbox-standby .dot { background: var(--standby); }
.inbox-none { border-left-color: var(--waiting); color: var(--muted); } .inbox-none .dot { background: var(--waiting); }
.inbox-name { font-weight: 600; word-break: break-all; }
.inbox-down .inbox-health { color: var(--down); font-weight: 600; }
.inbox-up .inbox-health { color: var(--up); }
.facts { display: flex; flex-wrap: wrap; gap: 4px 16px; margin-left: auto; color: var(--muted); }
.fact .k { color: var(--muted); } .fact { color: var(--ink); }
.fact .k::after { content: ":"; }

.counts { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 12px; }
.chip { display: inline-flex; gap: 6px; align-items: center; padding: 4px 10px; border-radius: 999px; background: var(--card); border: 1px solid var(--line); color: var(--ink); }
.chip b { font-variant-numeric: tabular-nums; }
.chip.on { background: #17212b; color: #fff; border-color: #17212b; }
.chip::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--c, #9aa5b1); }
.st-waiting { --c: var(--waiting); } .st-downloading { --c: var(--downloading); } .st-retrying { --c: var(--retrying); }
.st-done { --c: var(--done); } .st-failed { --c: var(--failed); } .st-all { --c: #17212b; }

.filters { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: end; margin-bottom: 12px; }
.filters label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; color: var(--muted); }
.filters .grow { flex: 1 1 200px; }
select, input[type=search] { font: inherit; color: var(--ink); padding: 6px 8px; border: 1px solid #cfd7df; border-radius: 6px; background: #fff; min-height: 34px; }
.btn { font: inherit; padding: 6px 14px; min-height: 34px; border-radius: 6px; border: 1px solid var(--downloading); background: var(--downloading); color: #fff; cursor: pointer; }
.btn:hover { filter: brightness(1.08); }
.btn-quiet { background: #fff; color: var(--ink); border-color: #cfd7df; }

.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table.packages { width: 100%; border-collapse: collapse; }
.packages th { text-align: left; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .4px; padding: 10px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
.packages td { padding: 10px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
.packages tr:last-child td { border-bottom: 0; }
.packages tr.row td:first-child { border-left: 4px solid var(--c); }
.packages .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.c-title { width: 28%; min-width: 210px; }
.c-attempts { width: 1%; }
.title { font-weight: 600; overflow-wrap: anywhere; }
.sender { color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
.c-server { color: #3c4a59; white-space: nowrap; }
.c-arrived { white-space: nowrap; color: #3c4a59; }
.c-progress { min-width: 160px; }
.c-folder { min-width: 150px; max-width: 240px; }
.c-folder code { word-break: normal; overflow-wrap: anywhere; }
.c-actions { white-space: nowrap; text-align: right; }
.c-actions form { display: inline; margin-left: 4px; }
.c-actions .btn { padding: 4px 10px; min-height: 32px; }
.table-wrap .pager { padding: 0 12px 12px; margin-top: 10px; }
.badge { display: inline-block; padding: 2px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; color: var(--c); background: color-mix(in srgb, var(--c) 12%, white); }
.badge.sweep { --c: #8a5a00; }
.failure { margin-top: 4px; font-size: 13px; color: var(--failed); }
.failure .headline { font-weight: 600; }
.failure .detail { color: #7a3b3e; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
progress { display: block; width: 100%; height: 8px; margin: 4px 0 4px; appearance: none; border: 0; border-radius: 4px; background: #e6ecf2; overflow: hidden; }
progress::-webkit-progress-bar { background: #e6ecf2; border-radius: 4px; }
progress::-webkit-progress-value { background: var(--downloading); border-radius: 4px; transition: width .6s ease; }
progress::-moz-progress-bar { background: var(--downloading); }
.prog-text { font-size: 12px; color: #3c4a59; font-variant-numeric: tabular-nums; }
.pct { font-weight: 600; color: var(--downloading); }
.empty td { text-align: center; color: var(--muted); padding: 28px; }
.pager { display: flex; justify-content: space-between; gap: 12px; margin: 12px 2px 0; color: var(--muted); }
.note { color: var(--muted); font-size: 12px; }
.updated { color: var(--muted); font-size: 12px; margin-top: 10px; }
.stale .updated::after { content: " · live updates interrupted, retrying"; color: var(--retrying); }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }

@media (max-width: 760px) {
  .top, main { padding-left: 12px; padding-right: 12px; }
  .facts { margin-left: 0; }
  .packages thead { display: none; }
  .packages, .packages tbody, .packages tr, .packages td { display: block; width: 100%; }
  .packages tr.row { border-left: 4px solid var(--c); border-bottom: 1px solid var(--line); padding: 8px 0; }
  .packages tr.row td:first-child { border-left: 0; }
  .packages td { border: 0; padding: 3px 12px; max-width: none; min-width: 0; text-align: left; }
  .packages td.none { display: none; }
  .packages td[data-label]:not([data-label=""]):not(.c-title)::before { content: attr(data-label); display: inline-block; width: 84px; color: var(--muted); font-size: 12px; }
  .packages .num { text-align: left; }
  .c-progress progress { display: block; }
  .c-actions { text-align: left; padding-top: 6px; }
  .c-actions form { margin: 0 6px 0 0; }
  .c-actions .btn { min-height: 40px; padding: 8px 16px; }
}
`;
