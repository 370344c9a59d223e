/** The Prometheus example: requests to the app show up in a scrape of its endpoint. */
import { afterEach, describe, expect, it } from 'vitest';
import { start } from './server.js';

let running: Awaited<ReturnType<typeof start>> | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** The value of the sample `name` whose labels include every `labels` pair, from a Prometheus text exposition. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('examples/metrics', () => {
  it('exports the session counters and store latency for Prometheus', async () => {
    running = await start({ port: 0, metricsPort: 0 });
    const first = await fetch(running.url);
    expect(await first.text()).toBe('visit 1');
    const cookie = first.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    expect(await (await fetch(running.url, { headers: { cookie } })).text()).toBe('visit 2');
    await (await fetch(`${running.url}/logout`, { headers: { cookie } })).text();

    const scrape = await fetch(running.metricsUrl);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    const text = await scrape.text();
    expect(sample(text, 'tsession_sessions_started_total')).toBe(1);
    expect(sample(text, 'tsession_sessions_ended_total', { tsession_end_reason: 'invalidated' })).toBe(1);
    expect(sample(text, 'tsession_commits_total', { tsession_outcome: 'ok', tsession_store: 'MemoryStore' })).toBe(2);
    expect(sample(text, 'tsession_loads_total', { tsession_outcome: 'found' })).toBe(1);
    expect(sample(text, 'tsession_store_duration_count', { tsession_operation: 'commit' })).toBe(2);
    expect(sample(text, 'tsession_store_duration_count', { tsession_operation: 'destroy' })).toBe(1);
    expect(sample(text, 'tsession_store_duration_bucket', { tsession_operation: 'commit', le: '+Inf' })).toBe(2);
  });
});
