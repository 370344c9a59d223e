/** Summaries of the rounds, the targets (issue 10 and the earlier ones still held), and the Markdown table. */
import type { MemoryPerSessionResult } from '../memory-per-session.js';
import type { SweepResult } from '../sweep.js';
import { type CaseSpec, sibling, type WorkloadName } from './cases.js';
import type { LostIncrements, RoundResult, Seeded } from './load.js';
import { fmt, max, median, min } from './stats.js';

/** One case over all rounds. */
export interface CaseSummary {
  id: string;
  serverId: string;
  store: string;
  label: string;
  path: string;
  workload: WorkloadName;
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
  /** For session cases: median over rounds of 1 - requests/s over the same framework's without sessions in the same round. */
  sessionShare?: number;
  /** For session cases: 1 - the framework's CPU µs per request over this case's (medians): the share of CPU the session layer adds. */
  sessionShareCpu?: number;
  /** For tsession cases with a peer: median over rounds of requests/s over the peer's in the same round. */
  peerRatio?: number;
  /** The peer's CPU µs per request over this case's: > 1 means tsession costs less. */
  peerCpuRatio?: number;
  peerId?: string;
  /** Store commands per request by name (Redis: counted on the server; PostgreSQL: statements). */
  commandsPerRequest?: Record<string, number>;
  commandsTotalPerRequest?: number;
  /** Of those, commands that write (Redis writes, scripts, PostgreSQL commits). */
  writeCommandsPerRequest?: number;
  /** The separate phase of /write from 50 clients on one session (on the /write row). */
  lostPhase?: LostIncrements;
  /** What seeding 10,000 sessions (10,000 /write requests without a cookie) grew the server by, per request (on the /read many row). */
  seeded?: Seeded;
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

/** Redis commands that write, and PostgreSQL statements that commit. */
const WRITE_COMMAND =
  /^(evalsha|eval|fcall|set|setex|psetex|hset|hmset|hdel|del|unlink|expire|pexpire|expireat|pexpireat|multi|exec|SELECT \[\w*commit\w*\]|INSERT|UPDATE|DELETE|COMMIT)/;

/** Summarises each case's rounds; the ceiling is the bare server on the same endpoint. */
export function summarize(
  cases: readonly CaseSpec[],
  rounds: ReadonlyMap<string, RoundResult[]>,
  lost: Readonly<Record<string, LostIncrements>> = {},
  seeded: Readonly<Record<string, Seeded>> = {},
  counted: Readonly<Record<string, { requests: number; commands: Record<string, number> }>> = {},
): CaseSummary[] {
  const ceilingOf = (c: CaseSpec) => rounds.get(sibling(c, 'bare')) ?? [];
  const frameworkOf = (c: CaseSpec) => rounds.get(sibling(c, c.server.framework)) ?? [];
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
        serverId: c.server.id,
        store: c.server.store,
        label: c.server.label,
        path: c.path,
        workload: c.workload,
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
        summary.sessionShare = median(rs.map((r, i) => 1 - r.rps / (framework[i]?.rps ?? Number.NaN)));
        summary.sessionShareCpu = 1 - median(framework.map((r) => r.cpuUsPerRequest)) / summary.cpuUsMedian;
      }
      const peer = c.server.peerId ? (rounds.get(sibling(c, c.server.peerId)) ?? []) : [];
      if (peer.length > 0) {
        summary.peerId = c.server.peerId as string;
        summary.peerRatio = median(rs.map((r, i) => r.rps / (peer[i]?.rps ?? Number.NaN)));
        summary.peerCpuRatio = median(peer.map((r) => r.cpuUsPerRequest)) / summary.cpuUsMedian;
      }
      const phase = counted[c.id];
      if (phase || rs.some((r) => r.commands)) {
        const totals: Record<string, number> = { ...phase?.commands };
        if (!phase)
          for (const r of rs)
            for (const [name, n] of Object.entries(r.commands ?? {})) totals[name] = (totals[name] ?? 0) + n;
        const requests = phase ? phase.requests : rs.reduce((a, r) => a + r.requests, 0);
        summary.commandsPerRequest = Object.fromEntries(
          Object.entries(totals).map(([name, n]) => [name, n / requests]),
        );
        const sum = (names: string[]) => names.reduce((a, name) => a + (totals[name] ?? 0), 0) / requests;
        summary.commandsTotalPerRequest = sum(Object.keys(totals));
        summary.writeCommandsPerRequest = sum(Object.keys(totals).filter((name) => WRITE_COMMAND.test(name)));
      }
      const first = c.workload === 'one' && c.path === '/write';
      if (first && lost[c.server.id]) summary.lostPhase = lost[c.server.id] as LostIncrements;
      if (c.workload === 'many' && c.path === '/read' && seeded[c.server.id])
        summary.seeded = seeded[c.server.id] as Seeded;
      if (rs.some((r) => r.lost !== undefined)) summary.lost = rs.reduce((a, r) => a + (r.lost ?? 0), 0);
      return summary;
    });
}

/** Checks the targets against what was measured. */
export function checkTargets(
  summaries: readonly CaseSummary[],
  memory: MemoryPerSessionResult | undefined,
  sweep: SweepResult | undefined,
  blind: Readonly<Record<string, { requests: number; commands: Record<string, number> }>> = {},
): TargetCheck[] {
  return [
    ...httpTargets(summaries),
    ...frameworkTargets(summaries),
    ...roundTripTargets(summaries, blind),
    ...memoryTargets(summaries, memory),
    ...sweepTargets(sweep),
  ];
}

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(0)}%`);
const x2 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`);
const us = (x: number | undefined) => `${fmt(x ?? Number.NaN, 1)} µs`;

/** tsession/http + MemoryStore /read against bare node:http, in both workloads; no writes on reads. */
function httpTargets(summaries: readonly CaseSummary[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const s of summaries.filter((x) => x.serverId === 'tsession-memory' && x.path === '/read')) {
    const cpuRatio = 1 / s.cpuRatioToCeiling;
    checks.push({
      name: `tsession/http + MemoryStore /read, ${s.workload} session(s): >= 0.85x bare node:http requests/s, <= 1.18x its CPU per request`,
      met: s.pairedRatio.median >= 0.85 && cpuRatio <= 1.18,
      detail:
        `${x2(s.pairedRatio.median)} requests/s (paired rounds ${x2(s.pairedRatio.min)}-${x2(s.pairedRatio.max)}); ` +
        `CPU ${us(s.cpuUsMedian)} vs ${us(s.cpuUsMedian * s.cpuRatioToCeiling)} = ${x2(cpuRatio)}`,
    });
  }
  for (const s of summaries.filter(
    (x) => !x.peer && x.path === '/read' && x.serverId !== 'bare' && x.store !== 'none',
  )) {
    checks.push({
      name: `${s.label}, ${s.workload}: 0 store writes per 1,000 /read requests`,
      met: s.writesPer1000 === 0,
      detail: `${fmt(s.writesPer1000, 3)} writes per 1,000 reads`,
    });
  }
  return checks;
}

/** Each framework: the session layer's share, the ratio to the usual library, lost increments. */
function frameworkTargets(summaries: readonly CaseSummary[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const frameworks = summaries.filter(
    (x) =>
      !x.peer &&
      x.sessionShare !== undefined &&
      x.path === '/read' &&
      x.store === 'memory' &&
      x.serverId !== 'tsession-memory' &&
      x.serverId !== 'tsession-direct',
  );
  for (const s of frameworks) {
    const cpuRatio = 1 / (1 - (s.sessionShareCpu ?? Number.NaN));
    checks.push({
      name: `${s.label} /read, ${s.workload}: session layer <= 15% of the framework's requests/s, <= 1.18x its CPU per request`,
      met: (s.sessionShare ?? 1) <= 0.15 && cpuRatio <= 1.18,
      detail: `${pct(s.sessionShare)} of requests/s (paired rounds); CPU ${us(s.cpuUsMedian)} = ${x2(cpuRatio)} the framework alone's`,
    });
  }
  for (const s of summaries.filter((x) => x.peerRatio !== undefined)) {
    const read = s.path === '/read';
    checks.push({
      name: `${s.label} ${s.path}, ${s.workload}: ${read ? '>= 1.5x' : 'never slower than'} ${s.peerId} requests/s`,
      met: (s.peerRatio ?? 0) >= (read ? 1.5 : 1),
      detail: `${x2(s.peerRatio)} requests/s (paired rounds); ${x2(s.peerCpuRatio)} less CPU per request (${us(s.cpuUsMedian)} vs ${us((s.peerCpuRatio ?? Number.NaN) * s.cpuUsMedian)})`,
    });
  }
  for (const s of summaries.filter((x) => !x.peer && x.lostPhase)) {
    const l = s.lostPhase as LostIncrements;
    checks.push({
      name: `${s.label}: no lost increments with ${l.connections} clients on one session`,
      met: l.lost === 0,
      detail: `${l.acknowledged} acknowledged, ${l.conflicts} refused with 409, counter +${l.increase}: ${l.lost} lost`,
    });
  }
  return checks;
}

const commandList = (commands: Record<string, number> | undefined) =>
  Object.entries(commands ?? {})
    .map(([name, n]) => `${name} ${n.toFixed(2)}`)
    .join(', ');

/** Store round trips per request kind on Redis and PostgreSQL: read 1, read-modify-write 2, blind write 1. */
function roundTripTargets(
  summaries: readonly CaseSummary[],
  blind: Readonly<Record<string, { requests: number; commands: Record<string, number> }>>,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const near = (x: number | undefined, n: number) => x !== undefined && Math.abs(x - n) < 0.01;
  for (const s of summaries.filter(
    (x) => !x.peer && x.workload === 'many' && x.commandsPerRequest && (x.store === 'redis' || x.store === 'postgres'),
  )) {
    const read = s.path === '/read';
    const want = read ? 1 : 2;
    checks.push({
      name: `${s.store === 'redis' ? 'RedisStore' : 'PostgresStore'} ${read ? '/read: 1 round trip, 0 writes' : '/write (read-modify-write): 2 round trips, 1 write'}`,
      met: near(s.commandsTotalPerRequest, want) && near(s.writeCommandsPerRequest, read ? 0 : 1),
      detail: `${(s.commandsTotalPerRequest ?? Number.NaN).toFixed(3)} per request, of which ${(s.writeCommandsPerRequest ?? Number.NaN).toFixed(3)} write (${commandList(s.commandsPerRequest)})`,
    });
  }
  for (const [id, phase] of Object.entries(blind)) {
    const total = Object.values(phase.commands).reduce((a, n) => a + n, 0) / phase.requests;
    checks.push({
      name: `${id.startsWith('tsession-redis') ? 'RedisStore' : 'PostgresStore'} /blind (a write of a key never read): 1 round trip`,
      met: near(total, 1),
      detail: `${total.toFixed(3)} per request (${commandList(Object.fromEntries(Object.entries(phase.commands).map(([k, n]) => [k, n / phase.requests])))})`,
    });
  }
  return checks;
}

/** Memory per idle session through the core, and the RSS a running server grows by per session. */
function memoryTargets(summaries: readonly CaseSummary[], memory: MemoryPerSessionResult | undefined): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (memory) {
    checks.push({
      name: `MemoryStore <= 250 B RSS per idle session at ${fmt(memory.sessions)} sessions`,
      met: memory.rssBytesPerSession <= 250,
      detail: `RSS ${fmt(memory.rssBytesPerSession)} B, heap ${fmt(memory.heapBytesPerSession)} B per session (of which ${fmt(memory.valueBytes)} B is the value's encoding)`,
    });
  }
  const bare = summaries.find((x) => x.serverId === 'bare' && x.seeded)?.seeded;
  const ts = summaries.find((x) => x.serverId === 'tsession-memory' && x.seeded)?.seeded;
  if (bare && ts) {
    checks.push({
      name: `tsession/http + MemoryStore: RSS growth per session at ${fmt(ts.requests)} sessions within 2x what the same requests grow bare node:http by`,
      met: ts.rssPerRequest <= 2 * Math.max(bare.rssPerRequest, 0),
      detail: `${fmt(ts.rssPerRequest)} B vs bare ${fmt(bare.rssPerRequest)} B per request (heap ${fmt(ts.heapPerRequest)} B vs ${fmt(bare.heapPerRequest)} B)`,
    });
  }
  return checks;
}

/** Sweeping costs the expired records, not the stored ones. */
function sweepTargets(sweep: SweepResult | undefined): TargetCheck[] {
  const checks: TargetCheck[] = [];
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
  chartFile?: string,
): string {
  const out: string[] = [`# tsession benchmark, ${meta.date}`, ''];
  out.push(
    Object.entries(meta)
      .map(([k, v]) => `${k}: ${v}`)
      .join(' · '),
    '',
  );
  if (chartFile) out.push(`![requests/s as a ratio to bare node:http, per framework and store](${chartFile})`, '');
  const table = (workload: WorkloadName, title: string) => {
    out.push(
      `**${title}**`,
      '',
      '| case | endpoint | req/s (2xx) median (min-max) | server CPU µs/req | p99 ms | x bare (req/s, paired) | session cost: req/s (paired) / CPU added | x peer: req/s (paired) / CPU | store commands per request | store writes / 1k req | 409 / other non-2xx | lost increments, 50 clients on one session | server growth per session seeded |',
      '|---|---|--:|--:|--:|--:|--:|--:|---|--:|--:|---|---|',
    );
    for (const s of summaries.filter((x) => x.workload === workload)) {
      const l = s.lostPhase;
      const g = s.seeded;
      out.push(
        `| ${s.label} | ${s.path} | ${fmt(s.rpsMedian)} (${fmt(s.rpsMin)}-${fmt(s.rpsMax)}) | ${fmt(s.cpuUsMedian, 1)} | ${fmt(s.p99Median)} | ` +
          `${s.pairedRatio.median.toFixed(2)} (${s.pairedRatio.min.toFixed(2)}-${s.pairedRatio.max.toFixed(2)}) | ` +
          `${s.sessionShare === undefined ? '-' : `${pct(s.sessionShare)} / ${pct(s.sessionShareCpu)}`} | ` +
          `${s.peerRatio === undefined ? '-' : `${x2(s.peerRatio)} / ${x2(s.peerCpuRatio)}`} | ` +
          `${s.commandsTotalPerRequest === undefined ? '-' : `${s.commandsTotalPerRequest.toFixed(2)}: ${commandList(s.commandsPerRequest)}`} | ` +
          `${fmt(s.writesPer1000, 1)} | ${fmt(s.conflicts)} / ${fmt(s.non2xx - s.conflicts + s.errors)} | ` +
          `${l ? `${l.lost} lost of ${l.acknowledged} acknowledged (${l.conflicts} x 409)` : '-'} | ` +
          `${g ? `RSS ${fmt(g.rssPerRequest)} B, heap ${fmt(g.heapPerRequest)} B${g.externalPerRequest !== undefined ? `, Redis ${fmt(g.externalPerRequest)} B` : ''}` : '-'} |`,
      );
    }
    out.push('');
  };
  table('many', 'Many sessions: 10,000 sessions, each request carrying one chosen at random (what real sites see)');
  table(
    'one',
    'One session: every request carrying the same cookie (the hot-cache case; /write is then contention on one record)',
  );
  for (const [id, reason] of Object.entries(skipped)) out.push(`| ${id} | skipped: ${reason} |`);
  if (memory) {
    out.push(
      '',
      `**Memory per idle session (MemoryStore, ${fmt(memory.sessions)} sessions through the core, bench/memory-per-session.ts):** heap ${fmt(memory.heapBytesPerSession)} B per session, ` +
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
  out.push('', '**Targets (issue 10, and the earlier ones still held)**', '');
  for (const t of targets) out.push(`- ${t.met ? 'MET' : 'MISSED'}: ${t.name}: ${t.detail}`);
  out.push(
    '',
    'How to read it: every case runs in two workloads: many sessions (10,000 seeded per server, each request carrying one chosen at random, so /write spreads over many records and measures throughput) and one session (every request on the same cookie: the hot-cache case, and /write is contention on one record). ' +
      'The load generator (autocannon) runs in a process of its own, never in the process that drives the report or in the server. Requests/s counts 2xx answers only: a 409 or any other non-2xx is never a served request, and 409s have their own column. ' +
      'Rounds are interleaved (every case once per round, in the same order), so drift of the machine hits all cases alike; ' +
      '"paired" ratios divide each round by the other case\'s result in the same round. Server CPU µs per request is the server process\'s ' +
      'user+system CPU time over the requests it handled, which the load generator disturbs less than requests/s. ' +
      '"Session cost" is the share of the same framework\'s requests/s lost with sessions (paired rounds), and the share of CPU per request the session layer adds. ' +
      '"x peer" is tsession over the library its users use today on the same framework (for Redis: tsession/http vs Express + express-session + connect-redis); the CPU ratio is the peer\'s CPU per request over tsession\'s. ' +
      "Store commands per request come from a separate counting phase per case (a fixed number of requests, 10 connections, the case's workload, every answer in; /blind is a handler that sets a key it never read). Redis: counted on the Redis server under MONITOR, keeping only the server child's own named connections (other programs share this Redis; a Lua script run by EVALSHA counts as one command: its inner commands come from lua). PostgreSQL: statements the pool sent, by prepared-statement name (each is its own transaction). The /write rows count the requests a 409 refused too. " +
      'Store writes per 1,000 requests count the store calls that write (commit, set, touch, persist) in the server. ' +
      "Lost increments come from a separate phase: a fixed number of /write requests from 50 connections on one session, every answer in: 2xx answers minus the counter's increase (409 is a refusal the client sees, not a loss). " +
      "Server growth per session seeded: RSS and live heap (after full GCs) the server grew by while 10,000 /write requests without a cookie created its sessions, per request; for bare node:http the same requests with no session, which is what a server grows by anyway (for Redis also the server's used_memory).",
  );
  return `${out.join('\n')}\n`;
}
