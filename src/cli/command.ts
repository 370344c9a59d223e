import type { OpenedStore } from './store-url.js';

/** What the exit code says; scripts can rely on these. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unavailable: 3, notFound: 4, importProblems: 5 } as const;

/** One option of a command, as `node:util`'s `parseArgs` reads it, plus its help. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The value's name in the help, e.g. `<count>`. */
  readonly value?: string;
  readonly description: string;
  readonly default?: string | boolean;
  /** An environment variable read when the option is not given. */
  readonly env?: string;
}

/** The options every command takes. */
export interface GlobalOptions {
  readonly store: string;
  readonly json: boolean;
}

/** What a command's `run` gets: the opened store (unless it opens its own), its options and arguments. */
export interface CommandInput {
  readonly globals: GlobalOptions;
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  readonly args: readonly string[];
}

/** One `tsession <name>` command; each lives in its own file under `commands/`. */
export interface CommandSpec {
  readonly name: string;
  /** The arguments in the help, e.g. `['<id>']` or `['[file]']`; `<...>` is required. */
  readonly args: readonly string[];
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /**
   * Reads the store and never writes it: a SQLite file that does not exist is an error
   * instead of a new, empty database.
   */
  readonly readOnly: boolean;
  /** Runs with the store open and closes it afterwards; `serve` keeps it open (`keepsStore`). */
  run(store: OpenedStore, input: CommandInput): Promise<void>;
  /** The command keeps running (a server), so the store is not closed when `run` returns. */
  readonly keepsStore?: boolean;
}

/** A mistake in the command line: exit code 2, with a pointer to the help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the CLI explains itself, with the exit code that says what kind it is. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A non-negative integer option. @throws UsageError */
export function countOption(input: CommandInput, name: string): number {
  const value = input.options[name];
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isInteger(n) || n < 0) {
    throw new UsageError(`--${name} takes a count (0, 1, 2, ...), not ${JSON.stringify(value)}`);
  }
  return n;
}

/** The current time in seconds, as the stores take it. */
export const now = (): number => Date.now() / 1000;
