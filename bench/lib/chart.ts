/**
 * A hand-written SVG bar chart: requests/s as a ratio to the bare node:http server on the
 * same endpoint (paired rounds, medians), per framework and store, one panel per endpoint,
 * grouped bars for the framework alone, with tsession, and with its usual peer; the
 * many-sessions workload, the one real sites have.
 */
import type { CaseSpec } from './cases.js';
import type { CaseSummary } from './report.js';

const BARS = ['framework', 'tsession', 'peer'] as const;
const COLORS = { framework: '#9aa5b1', tsession: '#2b6cb0', peer: '#dd6b20' } as const;
const NAMES = { framework: 'framework, no session', tsession: 'tsession', peer: 'usual peer' } as const;

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The chart for one run. */
export function chart(
  cases: readonly CaseSpec[],
  summaries: readonly CaseSummary[],
  meta: Record<string, string | number>,
): string {
  const byId = new Map(summaries.map((s) => [s.id, s]));
  const groups: string[] = [];
  for (const c of cases)
    if (c.server.chart && !groups.includes(c.server.chart.group)) groups.push(c.server.chart.group);
  const value = (path: string, group: string, bar: (typeof BARS)[number]) => {
    const c = cases.find(
      (x) => x.workload === 'many' && x.path === path && x.server.chart?.group === group && x.server.chart.bar === bar,
    );
    return c ? byId.get(c.id) : undefined;
  };
  const paths = ['/read', '/write'];
  const max = Math.max(
    1,
    ...summaries.filter((s) => Number.isFinite(s.pairedRatio.median)).map((s) => s.pairedRatio.median),
  );
  const groupWidth = 120;
  const barWidth = 30;
  const left = 50;
  const panelHeight = 240;
  const plotHeight = 170;
  const width = left + groups.length * groupWidth + 20;
  const height = 70 + paths.length * panelHeight + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">Requests/s as a ratio to bare node:http (10,000 sessions, same endpoint, paired rounds, medians)</text>`,
    `<text x="${left}" y="38" fill="#555">${escapeXml(`${meta.date} · ${meta.mode} · ${meta.rounds} rounds x ${meta['seconds per round']} s · ${meta.connections} connections · ${meta.cpus}`)}</text>`,
  ];
  BARS.forEach((bar, i) => {
    const x = left + i * 170;
    out.push(
      `<rect x="${x}" y="48" width="12" height="12" fill="${COLORS[bar]}"/>`,
      `<text x="${x + 16}" y="58">${NAMES[bar]}</text>`,
    );
  });
  paths.forEach((path, p) => {
    const top = 70 + p * panelHeight + 20;
    const base = top + plotHeight;
    const y = (v: number) => base - (v / max) * plotHeight;
    out.push(`<text x="${left}" y="${top - 6}" font-weight="bold">GET ${path}</text>`);
    for (const tick of [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5].filter((t) => t <= max)) {
      out.push(
        `<line x1="${left}" x2="${width - 20}" y1="${y(tick)}" y2="${y(tick)}" stroke="${tick === 1 ? '#333' : '#ddd'}"${tick === 1 ? ' stroke-dasharray="4 3"' : ''}/>`,
        `<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick.toFixed(2)}</text>`,
      );
    }
    groups.forEach((group, g) => {
      const gx = left + g * groupWidth + 10;
      BARS.forEach((bar, b) => {
        const s = value(path, group, bar);
        if (!s || !Number.isFinite(s.pairedRatio.median)) return;
        const v = s.pairedRatio.median;
        const x = gx + b * (barWidth + 4);
        out.push(
          `<rect x="${x}" y="${y(v).toFixed(1)}" width="${barWidth}" height="${(base - y(v)).toFixed(1)}" fill="${COLORS[bar]}"><title>${escapeXml(`${s.label} ${path}: ${v.toFixed(2)}x (${Math.round(s.rpsMedian)} req/s, ${s.cpuUsMedian.toFixed(1)} µs CPU/req)`)}</title></rect>`,
          `<text x="${x + barWidth / 2}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${v.toFixed(2)}</text>`,
        );
      });
      const words = group.split(/(?<=,) /);
      words.forEach((word, w) => {
        out.push(
          `<text x="${gx + 50}" y="${base + 14 + w * 12}" text-anchor="middle" font-size="10">${escapeXml(word)}</text>`,
        );
      });
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
