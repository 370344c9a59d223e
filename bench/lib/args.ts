/** Tiny flag reading for the standalone scripts: `--name value` and bare `--flag`. */

/** The numeric value after `--name`, else `fallback`. */
export function numberFlag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : Number.NaN;
  return Number.isFinite(value) ? value : fallback;
}

/** True when `--name` is on the command line. */
export function hasFlag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** Prints the human report to stderr, or with `--json` the result as one JSON line on stdout. */
export function emit(result: object, human: string): void {
  process.stderr.write(`${human}\n`);
  if (hasFlag('json')) process.stdout.write(`${JSON.stringify(result)}\n`);
}
