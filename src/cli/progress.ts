import { SingleBar } from 'cli-progress';

/** A progress display: a bar with count and rate on a terminal, nothing when piped. */
export interface Progress {
  update(count: number): void;
  stop(): void;
}

const SILENT: Progress = { update() {}, stop() {} };

/**
 * A progress bar on stderr when stderr is a terminal (and `--json` is off), else silent.
 * Without a known total it shows the count and rate only.
 */
export function progress(label: string, total: number | undefined, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return SILENT;
  const format =
    total === undefined
      ? `${label} {value} sessions | {rate}/s | {duration_formatted}`
      : `${label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | eta {eta_formatted}`;
  const bar = new SingleBar({ format, stream: process.stderr, hideCursor: true, etaBuffer: 200 });
  const started = Date.now();
  bar.start(total ?? 0, 0, { rate: 0 });
  let last = 0;
  return {
    update(count) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      bar.update(count, { rate: Math.round(count / Math.max((now - started) / 1000, 0.001)) });
    },
    stop() {
      bar.stop();
    },
  };
}
