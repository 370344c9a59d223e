/**
 * The admin page's static assets, shipped as strings so they need no build step and no
 * file lookup at run time.
 */

/** The admin page's stylesheet (light and dark). */
export const ADMIN_CSS = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --line: #d0d5dd; --accent: #3658d4; --bg: #fff; --soft: #f4f6fb; --danger: #c0362c; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8ef; --muted: #98a2b3; --line: #344054; --accent: #8ba3ff; --bg: #101320; --soft: #1a1f30; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 1.5rem; padding: 1rem 2rem; border-bottom: 1px solid var(--line); background: var(--soft); }
header h1 { margin: 0; font-size: 1.2rem; }
header a { color: var(--fg); text-decoration: none; }
main { padding: 1.5rem 2rem; max-width: 1100px; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin-bottom: 1.5rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; min-width: 11rem; }
.card b { display: block; font-size: 1.6rem; }
.card span { color: var(--muted); font-size: .85rem; }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: .5rem 1rem; flex: 1; min-width: 18rem; }
.chart svg { width: 100%; height: 70px; }
.chart .live { stroke: var(--accent); fill: none; stroke-width: 2; }
.chart .ops { stroke: var(--muted); fill: none; stroke-width: 1.5; stroke-dasharray: 4 3; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
td code { font-size: .85rem; }
pre { background: var(--soft); padding: .5rem .75rem; border-radius: 6px; overflow-x: auto; margin: 0; }
form.inline { display: inline; }
button, input[type=search] { font: inherit; padding: .35rem .7rem; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); }
button { cursor: pointer; }
button.danger { border-color: var(--danger); color: var(--danger); }
.toolbar { display: flex; gap: .75rem; align-items: center; margin-bottom: 1rem; flex-wrap: wrap; }
.msg { padding: .5rem .75rem; border-radius: 6px; background: var(--soft); border-left: 3px solid var(--accent); margin-bottom: 1rem; }
.muted { color: var(--muted); }
nav.pages { margin-top: 1rem; display: flex; gap: 1rem; }
`;

/** The admin page's script: polls `api/stats` and draws the live figures and chart. */
export const ADMIN_JS = `
const root = document.querySelector('[data-stats]');
if (root) {
  const url = root.getAttribute('data-stats');
  const set = (name, value) => { const el = document.querySelector('[data-value="' + name + '"]'); if (el) el.textContent = value; };
  const line = (points, key, max) => points.map((p, i) => (i * 300 / Math.max(points.length - 1, 1)).toFixed(1) + ',' + (66 - (p[key] / max) * 60).toFixed(1)).join(' ');
  async function refresh() {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' } });
      if (!response.ok) return;
      const stats = await response.json();
      // One sample draws as a flat line, not as nothing.
      const samples = stats.history.length === 1 ? [stats.history[0], stats.history[0]] : stats.history;
      const last = samples[samples.length - 1] || { live: 0, opsPerSecond: 0 };
      set('live', last.live == null ? '?' : last.live);
      set('ops', last.opsPerSecond.toFixed(1));
      const maxLive = Math.max(1, ...samples.map((s) => s.live || 0));
      const maxOps = Math.max(1, ...samples.map((s) => s.opsPerSecond));
      document.querySelector('polyline.live')?.setAttribute('points', line(samples, 'live', maxLive));
      document.querySelector('polyline.ops')?.setAttribute('points', line(samples, 'opsPerSecond', maxOps));
    } catch {}
  }
  refresh();
  setInterval(refresh, 5000);
}
`;
