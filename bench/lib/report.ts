/** Summaries of the rounds, the targets of issue 2, and the Markdown table. */
import type { MemoryPerSessionResult } from '../memory-per-session.js';
import type { SweepResult } from '../sweep.js';
import type { CaseSpec } from './cases.js';
import type { LostIncrements, MemoryPerSession, RoundResult } from './load.js';
import { fmt, max, median, min } from './stats.js';

/** One case over all rounds. */
export interface CaseSummary {
  id: string;
  serverId: string;
  store: string;
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
  /** Memory per idle session (on the /read row). */
  memoryPerSession?: MemoryPerSession & { store: string };
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
  perSession: Readonly<Record<string, MemoryPerSession & { store: string }>> = {},
  counted: Readonly<Record<string, { requests: number; commands: Record<string, number> }>> = {},
): CaseSummary[] {
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
        serverId: c.server.id,
        store: c.server.store,
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
        summary.sessionShare = median(rs.map((r, i) => 1 - r.rps / (framework[i]?.rps ?? Number.NaN)));
        summary.sessionShareCpu = 1 - median(framework.map((r) => r.cpuUsPerRequest)) / summary.cpuUsMedian;
      }
      const peer = c.server.peerId ? (rounds.get(`${c.server.peerId} ${c.path}`) ?? []) : [];
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
      if (c.path === '/write' && lost[c.server.id]) summary.lostPhase = lost[c.server.id] as LostIncrements;
      if (c.path === '/read' && perSession[c.server.id])
        summary.memoryPerSession = perSession[c.server.id] as MemoryPerSession & { store: string };
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
  checks.push(...issue4Targets(summaries), ...issue3Targets(summaries));
  return checks;
}

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(0)}%`);
const x2 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`);

/** Issue 4: session layer <= 15% of its framework's read throughput; >= 1.5x the peer on reads; never slower on writes. */
function issue4Targets(summaries: readonly CaseSummary[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const s of summaries.filter((x) => !x.peer && x.sessionShare !== undefined && x.path === '/read')) {
    checks.push({
      name: `issue 4: ${s.label}: session layer costs <= 15% of its framework's /read requests/s`,
      met: (s.sessionShare ?? 1) <= 0.15,
      detail: `${pct(s.sessionShare)} of requests/s (paired rounds), ${pct(s.sessionShareCpu)} of CPU per request added (${fmt(s.cpuUsMedian, 1)} µs)`,
    });
  }
  for (const s of summaries.filter((x) => x.peerRatio !== undefined)) {
    const read = s.path === '/read';
    checks.push({
      name: `issue 4: ${s.label} ${s.path}: ${read ? '>= 1.5x' : 'never slower than'} ${s.peerId} requests/s`,
      met: (s.peerRatio ?? 0) >= (read ? 1.5 : 1),
      detail: `${x2(s.peerRatio)} requests/s (paired rounds); ${x2(s.peerCpuRatio)} less CPU per request (${fmt(s.cpuUsMedian, 1)} µs vs ${fmt((s.peerCpuRatio ?? Number.NaN) * s.cpuUsMedian, 1)} µs)`,
    });
  }
  for (const s of summaries.filter((x) => !x.peer && x.lostPhase)) {
    const l = s.lostPhase as LostIncrements;
    checks.push({
      name: `issue 6: ${s.label}: no lost increments with ${l.connections} clients on one session`,
      met: l.lost === 0,
      detail: `${l.acknowledged} acknowledged, ${l.conflicts} refused with 409, counter +${l.increase}: ${l.lost} lost`,
    });
  }
  return checks;
}

const commandList = (s: CaseSummary) =>
  Object.entries(s.commandsPerRequest ?? {})
    .map(([name, n]) => `${name} ${n.toFixed(2)}`)
    .join(', ');

/** Issue 3: Redis read = 1 round trip and 0 writes, read-modify-write = 2; PostgreSQL 1 statement to read, 1 transaction to commit. */
function issue3Targets(summaries: readonly CaseSummary[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const near = (x: number | undefined, n: number) => x !== undefined && Math.abs(x - n) < 0.01;
  for (const s of summaries.filter(
    (x) => !x.peer && x.commandsPerRequest && (x.store === 'redis' || x.store === 'postgres'),
  )) {
    const redis = s.store === 'redis';
    const read = s.path === '/read';
    const want = read ? 1 : 2;
    checks.push({
      name: redis
        ? `issue 3: RedisStore ${s.path}: ${read ? '1 command and 0 writes per read-only request' : '2 commands (1 read + 1 atomic commit) per read-modify-write request'}`
        : `issue 3: PostgresStore ${s.path}: ${read ? '1 statement per read-only request' : '1 statement to read + 1 transaction (a single statement) to commit'}`,
      met: near(s.commandsTotalPerRequest, want) && near(s.writeCommandsPerRequest, read ? 0 : 1),
      detail: `${(s.commandsTotalPerRequest ?? Number.NaN).toFixed(3)} per request, of which ${(s.writeCommandsPerRequest ?? Number.NaN).toFixed(3)} write (${commandList(s)})`,
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
  out.push(
    '| case | endpoint | req/s median (min-max) | server CPU µs/req | p99 ms | x ceiling (req/s, paired) | session cost: req/s (paired) / CPU | x peer: req/s (paired) / CPU | store commands per request | store writes / 1k req | non-2xx in rounds (409) | lost increments, 50 clients on one session | memory per idle session |',
    '|---|---|--:|--:|--:|--:|--:|--:|---|--:|--:|---|---|',
  );
  for (const s of summaries) {
    const l = s.lostPhase;
    const m = s.memoryPerSession;
    out.push(
      `| ${s.label} | ${s.path} | ${fmt(s.rpsMedian)} (${fmt(s.rpsMin)}-${fmt(s.rpsMax)}) | ${fmt(s.cpuUsMedian, 1)} | ${fmt(s.p99Median)} | ` +
        `${s.pairedRatio.median.toFixed(2)} (${s.pairedRatio.min.toFixed(2)}-${s.pairedRatio.max.toFixed(2)}) | ` +
        `${s.sessionShare === undefined ? '-' : `${pct(s.sessionShare)} / ${pct(s.sessionShareCpu)}`} | ` +
        `${s.peerRatio === undefined ? '-' : `${x2(s.peerRatio)} / ${x2(s.peerCpuRatio)}`} | ` +
        `${s.commandsTotalPerRequest === undefined ? '-' : `${s.commandsTotalPerRequest.toFixed(2)}: ${commandList(s)}`} | ` +
        `${fmt(s.writesPer1000, 1)} | ${fmt(s.non2xx + s.errors)} (${fmt(s.conflicts)}) | ` +
        `${l ? `${l.lost} lost of ${l.acknowledged} acknowledged (${l.conflicts} x 409)` : '-'} | ` +
        `${m ? (m.externalBytesPerSession !== undefined ? `Redis ${fmt(m.externalBytesPerSession)} B` : `heap ${fmt(m.heapBytesPerSession)} B, RSS ${fmt(m.rssBytesPerSession)} B`) : '-'} |`,
    );
  }
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
  out.push('', '**Targets (issues 2, 3, 4 and 6)**', '');
  for (const t of targets) out.push(`- ${t.met ? 'MET' : 'MISSED'}: ${t.name}: ${t.detail}`);
  out.push(
    '',
    'How to read it: rounds are interleaved (every case once per round, in the same order), so drift of the machine hits all cases alike; ' +
      '"paired" ratios divide each round by the other case\'s result in the same round. Server CPU µs per request is the server process\'s ' +
      'user+system CPU time over the requests it handled, which the load generator disturbs less than requests/s. ' +
      '"Session cost" is the share of the same framework\'s requests/s lost with sessions (paired rounds), and the share of CPU per request the session layer adds. ' +
      '"x peer" is tsession over the library its users use today on the same framework (for Redis: tsession/http vs Express + express-session + connect-redis); the CPU ratio is the peer\'s CPU per request over tsession\'s. ' +
      "Store commands per request come from a separate counting phase per case (a fixed number of requests, 10 connections, same cookie, every answer in). Redis: counted on the Redis server under MONITOR, keeping only the server child's own named connections (other programs share this Redis; a Lua script run by EVALSHA counts as one command: its inner commands come from lua). PostgreSQL: statements the pool sent, by prepared-statement name (each is its own transaction). The /write rows count the requests a 409 refused too. " +
      'Store writes per 1,000 requests count the store calls that write (commit, set, touch, persist) in the server. ' +
      "Lost increments come from a separate phase: a fixed number of /write requests from 50 connections on one session, every answer in: 2xx answers minus the counter's increase (409 is a refusal the client sees, not a loss). " +
      "Memory per idle session: live heap (after full GCs) and RSS growth of the server while it creates sessions for a few seconds, over the sessions created (includes the library's per-session overhead; for Redis, the server's used_memory).",
  );
  return `${out.join('\n')}\n`;
}
