/** Summaries of the rounds, the targets of issue 2, and the Markdown table. */
import type { MemoryPerSessionResult } from '../memory-per-session.js';
import type { SweepResult } from '../sweep.js';
import type { CaseSpec } from './cases.js';
import type { RoundResult } from './load.js';
import { fmt, max, median, min } from './stats.js';

/** One case over all rounds. */
export interface CaseSummary {
  id: string;
  label: string;
  path: string;
  peer: boolean;
  rounds: number;
  rpsMedian: number;
  rpsMin: number;
  rpsMax: number;
  cpuUsMedian: number;
  p99Median: number;
  /** Median requests/s over the bare server's median on the same endpoint. */
  ratioToCeiling: number;
  /** Median over rounds of (this round's requests/s / the bare server's in the same round), with its range. */
  pairedRatio: { median: number; min: number; max: number };
  /** The bare server's median CPU µs per request over this case's: < 1 means this case costs more. */
  cpuRatioToCeiling: number;
  /** For session cases: 1 - requests/s over the same framework's without sessions. */
  sessionShare?: number;
  writesPer1000: number;
  non2xx: number;
  conflicts: number;
  errors: number;
  lost?: number;
}

/** A target and whether it was met. */
export interface TargetCheck {
  name: string;
  met: boolean;
  detail: string;
}

/** Summarises each case's rounds; the ceiling is the bare server on the same endpoint. */
export function summarize(cases: readonly CaseSpec[], rounds: ReadonlyMap<string, RoundResult[]>): CaseSummary[] {
  const ceilingOf = (c: CaseSpec) => rounds.get(`bare ${c.path}`) ?? [];
  const frameworkOf = (c: CaseSpec) => rounds.get(`${c.server.framework} ${c.path}`) ?? [];
  return cases
    .filter((c) => (rounds.get(c.id)?.length ?? 0) > 0)
    .map((c) => {
      const rs = rounds.get(c.id) ?? [];
      const rps = rs.map((r) => r.rps);
      const ceiling = ceilingOf(c);
      const paired = rs.map((r, i) => r.rps / (ceiling[i]?.rps ?? Number.NaN));
      const framework = frameworkOf(c);
      const requests = rs.reduce((a, r) => a + r.requests, 0);
      const summary: CaseSummary = {
        id: c.id,
        label: c.server.label,
        path: c.path,
        peer: c.server.peer,
        rounds: rs.length,
        rpsMedian: median(rps),
        rpsMin: min(rps),
        rpsMax: max(rps),
        cpuUsMedian: median(rs.map((r) => r.cpuUsPerRequest)),
        p99Median: median(rs.map((r) => r.p99)),
        ratioToCeiling: median(rps) / median(ceiling.map((r) => r.rps)),
        pairedRatio: { median: median(paired), min: min(paired), max: max(paired) },
        cpuRatioToCeiling: median(ceiling.map((r) => r.cpuUsPerRequest)) / median(rs.map((r) => r.cpuUsPerRequest)),
        writesPer1000: (rs.reduce((a, r) => a + r.writes, 0) / requests) * 1000,
        non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
        conflicts: rs.reduce((a, r) => a + r.conflicts, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
      };
      if (c.server.session && framework.length > 0) {
        summary.sessionShare = 1 - median(rps) / median(framework.map((r) => r.rps));
      }
      if (rs.some((r) => r.lost !== undefined)) summary.lost = rs.reduce((a, r) => a + (r.lost ?? 0), 0);
      return summary;
    });
}

/** Checks issue 2's targets against what was measured. */
export function checkTargets(
  summaries: readonly CaseSummary[],
  memory: MemoryPerSessionResult | undefined,
  sweep: SweepResult | undefined,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const memRead = summaries.find((s) => s.id === 'tsession-memory /read');
  if (memRead) {
    checks.push({
      name: 'MemoryStore /read >= 0.85x bare requests/s',
      met: memRead.pairedRatio.median >= 0.85,
      detail:
        `paired per-round ratio ${memRead.pairedRatio.median.toFixed(2)}x ` +
        `(rounds ${memRead.pairedRatio.min.toFixed(2)}-${memRead.pairedRatio.max.toFixed(2)}), ` +
        `ratio of medians ${memRead.ratioToCeiling.toFixed(2)}x; CPU per request ${memRead.cpuRatioToCeiling.toFixed(2)}x the bare server's ` +
        `(${fmt(memRead.cpuUsMedian, 1)} µs vs ${fmt(memRead.cpuUsMedian * memRead.cpuRatioToCeiling, 1)} µs)`,
    });
  }
  for (const s of summaries.filter((x) => !x.peer && x.path === '/read' && x.id !== 'bare /read')) {
    checks.push({
      name: `${s.label}: 0 store writes per 1,000 /read requests`,
      met: s.writesPer1000 === 0,
      detail: `${fmt(s.writesPer1000, 3)} writes per 1,000 reads`,
    });
  }
  if (memory) {
    checks.push({
      name: 'MemoryStore < 400 heap bytes per idle session plus its data',
      met: memory.overheadBytes < 400,
      detail: `${fmt(memory.heapBytesPerSession)} B per session - ${fmt(memory.valueBytes)} B of value = ${fmt(memory.overheadBytes)} B`,
    });
  }
  for (const kind of new Set(sweep?.measurements.map((m) => m.store))) {
    const [small, large] = sweep?.measurements.filter((m) => m.store === kind) ?? [];
    if (!small || !large) continue;
    const ratio = large.medianMs / small.medianMs;
    checks.push({
      name: `${kind} sweep of ${fmt(small.expired)} expired: within 2x between ${fmt(small.stored)} and ${fmt(large.stored)} stored`,
      met: ratio <= 2,
      detail:
        `medians ${large.medianMs.toFixed(2)} ms vs ${small.medianMs.toFixed(2)} ms = ${ratio.toFixed(2)}x; ` +
        `fastest runs ${large.minMs.toFixed(2)} vs ${small.minMs.toFixed(2)} ms = ${(large.minMs / small.minMs).toFixed(2)}x` +
        (large.note ? ` (${large.note})` : ''),
    });
  }
  return checks;
}

/** The Markdown report. */
export function markdown(
  meta: Record<string, string | number>,
  summaries: readonly CaseSummary[],
  memory: MemoryPerSessionResult | undefined,
  sweep: SweepResult | undefined,
  targets: readonly TargetCheck[],
  skipped: Readonly<Record<string, string>>,
): string {
  const out: string[] = [`# tsession benchmark, ${meta.date}`, ''];
  out.push(
    Object.entries(meta)
      .map(([k, v]) => `${k}: ${v}`)
      .join(' · '),
    '',
  );
  out.push(
    '| case | endpoint | req/s median | req/s min-max | server CPU µs/req | p99 ms | x ceiling (req/s) | x ceiling paired, min-max | x ceiling (CPU) | session share of framework lost | store writes / 1k req | lost increments | non-2xx (of which 409) |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  );
  for (const s of summaries) {
    out.push(
      `| ${s.label} | ${s.path} | ${fmt(s.rpsMedian)} | ${fmt(s.rpsMin)}-${fmt(s.rpsMax)} | ${fmt(s.cpuUsMedian, 1)} | ${fmt(s.p99Median)} | ` +
        `${s.ratioToCeiling.toFixed(2)} | ${s.pairedRatio.median.toFixed(2)} (${s.pairedRatio.min.toFixed(2)}-${s.pairedRatio.max.toFixed(2)}) | ` +
        `${s.cpuRatioToCeiling.toFixed(2)} | ${s.sessionShare === undefined ? '-' : `${(s.sessionShare * 100).toFixed(0)}%`} | ` +
        `${fmt(s.writesPer1000, 1)} | ${s.lost ?? '-'} | ${fmt(s.non2xx + s.errors)} (${fmt(s.conflicts)}) |`,
    );
  }
  for (const [id, reason] of Object.entries(skipped)) out.push(`| ${id} | skipped: ${reason} |`);
  if (memory) {
    out.push(
      '',
      `**Memory per idle session (MemoryStore, ${fmt(memory.sessions)} sessions):** heap ${fmt(memory.heapBytesPerSession)} B per session, ` +
        `of which ${fmt(memory.valueBytes)} B is the stored value's encoding: overhead ${fmt(memory.overheadBytes)} B. RSS ${fmt(memory.rssBytesPerSession)} B per session.`,
    );
  }
  if (sweep) {
    out.push(
      '',
      '| sweep | expired | stored | median ms | min-max ms | fill s | note |',
      '|---|--:|--:|--:|--:|--:|---|',
    );
    for (const m of sweep.measurements) {
      out.push(
        `| ${m.store} | ${fmt(m.expired)} | ${fmt(m.stored)} | ${m.medianMs.toFixed(2)} | ${m.minMs.toFixed(2)}-${m.maxMs.toFixed(2)} | ${m.fillSeconds.toFixed(1)} | ${m.note ?? ''} |`,
      );
    }
    for (const [kind, reason] of Object.entries(sweep.skipped)) out.push(`| ${kind} | skipped: ${reason} |`);
  }
  out.push('', '**Targets (issue 2)**', '');
  for (const t of targets) out.push(`- ${t.met ? 'MET' : 'MISSED'}: ${t.name}: ${t.detail}`);
  out.push(
    '',
    'How to read it: rounds are interleaved (every case once per round, in the same order), so drift of the machine hits all cases alike; ' +
      '"paired" ratios divide each round by the bare server of the same round. Server CPU µs per request is the server process\'s ' +
      'user+system CPU time over the requests it handled, which the load generator disturbs less than requests/s. ' +
      '"lost increments" is /write 2xx responses minus the counter\'s increase; up to the number of connections either way is in-flight noise at round ends.',
  );
  return `${out.join('\n')}\n`;
}
