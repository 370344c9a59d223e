import { inspect } from 'node:util';
import type { SessionCodec } from '../codec/codec.js';
import type { ScannedSession, StoredSession } from '../stores/types.js';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What every page knows: where the admin is mounted and the form token. */
export interface PageContext {
  readonly base: string;
  readonly csrf: string;
  readonly message?: string | undefined;
}

/** The frame around every page. */
export function layout(ctx: PageContext, title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · tsession admin</title><link rel="stylesheet" href="${ctx.base}assets/admin.css"></head>
<body><header><h1><a href="${ctx.base}">tsession admin</a></h1><span class="muted">${escapeHtml(title)}</span></header>
<main>${ctx.message ? `<p class="msg" role="status">${escapeHtml(ctx.message)}</p>` : ''}${body}</main>
<script src="${ctx.base}assets/admin.js" defer></script></body></html>`;
}

/** A POST button protected by the CSRF token. */
export function postButton(ctx: PageContext, action: string, label: string, danger = false): string {
  return `<form class="inline" method="post" action="${ctx.base}${action}"><input type="hidden" name="csrf" value="${escapeHtml(ctx.csrf)}"><button${danger ? ' class="danger"' : ''}>${escapeHtml(label)}</button></form>`;
}

/** The list page: live figures, the chart, search, and one page of sessions. */
export function listPage(
  ctx: PageContext,
  query: string,
  page: number,
  rows: readonly ScannedSession[],
  more: boolean,
  users: UserFilter,
): string {
  const search = `<form class="inline" method="get" action="${ctx.base}"><input type="search" name="q" value="${escapeHtml(query)}" placeholder="key or package id" aria-label="search sessions"> <button>Search</button></form>`;
  const byUser = `<form class="inline" method="get" action="${ctx.base}"><input type="search" name="user" value="${escapeHtml(users.user)}" placeholder="user id" aria-label="sessions of a user"> <button>Sessions of user</button></form>`;
  const tools = `<div class="toolbar">${search}${byUser}${postButton(ctx, 'sweep', 'Sweep expired now')}<a href="${ctx.base}export">Export (JSON Lines)</a></div>`;
  const endAll =
    users.user !== '' && rows.length > 0
      ? `<div class="toolbar">${postButton(ctx, `user/${encodeURIComponent(users.user)}/end`, `End all ${rows.length} sessions of ${users.user}`, true)}</div>`
      : '';
  const table = rows.length
    ? `${endAll}<table><thead><tr><th>session</th><th>user</th><th>last access</th><th>expires</th><th>packages</th><th></th></tr></thead><tbody>${rows.map((r) => sessionRow(ctx, r, users.principalOf(r))).join('')}</tbody></table>`
    : `<p class="muted">${users.user === '' ? 'No live sessions match.' : `No live sessions of ${escapeHtml(users.user)}.`}</p>`;
  const link = (p: number) =>
    `${ctx.base}?${new URLSearchParams({ q: query, page: String(p), ...(users.user !== '' && { user: users.user }) })}`;
  const pages = `<nav class="pages">${page > 1 ? `<a href="${link(page - 1)}">← previous</a>` : ''}<span class="muted">page ${page}</span>${more ? `<a href="${link(page + 1)}">next →</a>` : ''}</nav>`;
  return layout(ctx, 'sessions', `${figures(ctx)}${tools}${table}${pages}`);
}

function figures(ctx: PageContext): string {
  return `<div class="cards" data-stats="${ctx.base}api/stats">
<div class="card"><b data-value="live">…</b><span>live sessions</span></div>
<div class="card"><b data-value="ops">…</b><span>store operations / s</span></div>
<div class="chart"><span class="muted">sessions (line) and operations/s (dashed), last samples</span>
<svg viewBox="0 0 300 70" preserveAspectRatio="none" role="img" aria-label="sessions over time"><polyline class="live" points=""/><polyline class="ops" points=""/></svg></div></div>`;
}

/** The list's user filter (empty: every session) and how a row's user is read. */
export interface UserFilter {
  readonly user: string;
  readonly principalOf: (session: ScannedSession) => string | undefined;
}

function sessionRow(ctx: PageContext, s: ScannedSession, user: string | undefined): string {
  const packages = [...new Set(s.entries.map((e) => e.pkg))];
  const who =
    user === undefined
      ? '<span class="muted">-</span>'
      : `<a href="${ctx.base}?${new URLSearchParams({ user })}">${escapeHtml(user)}</a>`;
  return `<tr><td><a href="${ctx.base}session/${encodeURIComponent(s.key)}"><code>${escapeHtml(s.key)}</code></a></td>
<td>${who}</td><td>${time(s.lastAccess)}</td><td>${s.expiresAt === null ? 'never' : time(s.expiresAt)}</td>
<td>${packages.map((p) => `<code>${escapeHtml(p)}</code>`).join(' ') || '<span class="muted">none</span>'}</td>
<td>${postButton(ctx, `session/${encodeURIComponent(s.key)}/delete`, 'Delete', true)}</td></tr>`;
}

/** One session: its times and every package's values, decoded, rendered read-only and escaped. */
export function sessionPage(ctx: PageContext, key: string, session: StoredSession, codec: SessionCodec): string {
  const byPackage = new Map<string, string[]>();
  for (const entry of session.entries) {
    const shown = `<tr><td><code>${escapeHtml(entry.key)}</code></td><td><pre>${escapeHtml(renderValue(codec, entry.value))}</pre></td><td class="muted">v${entry.version}</td></tr>`;
    byPackage.set(entry.pkg, [...(byPackage.get(entry.pkg) ?? []), shown]);
  }
  const packages = [...byPackage]
    .map(([pkg, rows]) => `<h3><code>${escapeHtml(pkg)}</code></h3><table><tbody>${rows.join('')}</tbody></table>`)
    .join('');
  const facts = `<p>created ${time(session.createdAt)} · last access ${time(session.lastAccess)} · expires ${session.expiresAt === null ? 'never' : time(session.expiresAt)}</p>`;
  const actions = `<div class="toolbar">${postButton(ctx, `session/${encodeURIComponent(key)}/delete`, 'Delete this session', true)}<a href="${ctx.base}">← all sessions</a></div>`;
  return layout(
    ctx,
    key,
    `<h2><code>${escapeHtml(key)}</code></h2>${facts}${actions}${packages || '<p class="muted">No data.</p>'}`,
  );
}

function renderValue(codec: SessionCodec, encoded: string): string {
  try {
    return inspect(codec.decode(encoded), { depth: 6, breakLength: 90 });
  } catch {
    return encoded;
  }
}

/** A stored time as a `<time>` element; a time no `Date` can hold (a corrupt or hand-made record) as plain text. */
function time(seconds: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime()))
    return `<span class="muted">${escapeHtml(String(seconds))} (not a valid time)</span>`;
  const iso = date.toISOString();
  return `<time datetime="${iso}">${iso.replace('T', ' ').slice(0, 19)}</time>`;
}
