/** A progress display: a count (and share of the total) with a rate on a terminal, nothing when piped. */
export interface Progress {
  update(count: number): void;
  stop(): void;
}

const SILENT: Progress = { update() {}, stop() {} };
/** Redraws at most this often, so a fast export is not slowed down by its own display. */
const REDRAW_MS = 100;

/**
 * A one-line progress display on stderr when stderr is a terminal (and `--json` is off),
 * else silent. Without a known total it shows the count and rate only.
 */
export function progress(label: string, total: number | undefined, enabled: boolean): Progress {
  const stream = process.stderr;
  if (!enabled || !stream.isTTY) return SILENT;
  const started = Date.now();
  let last = 0;
  let latest = 0;
  const draw = (count: number) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const share = total ? ` ${Math.min(100, Math.floor((count / total) * 100))}% of ${total} |` : '';
    stream.write(
      `\r${label}${share} ${count} sessions | ${Math.round(count / seconds)}/s | ${seconds.toFixed(1)} s\x1b[K`,
    );
  };
  return {
    update(count) {
      latest = count;
      const at = Date.now();
      if (at - last < REDRAW_MS) return;
      last = at;
      draw(count);
    },
    stop() {
      if (last !== 0) {
        draw(latest);
        stream.write('\n');
      }
    },
  };
}
