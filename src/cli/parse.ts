import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type CommandSpec, type GlobalOptions, type OptionSpec, UsageError } from './command.js';

/** The options every command takes, before or after its name. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  store: {
    type: 'string',
    short: 's',
    value: '<url>',
    description: 'the store (see "Stores" below)',
    default: 'sqlite:./data/sessions.db',
    env: 'TSESSION_STORE',
  },
  json: { type: 'boolean', description: 'machine-readable output', default: false },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  version: { type: 'boolean', short: 'V', description: "show tsession's version" },
};

/** A parsed command line. */
export type Invocation =
  | { readonly kind: 'help'; readonly command: CommandSpec | undefined }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'run';
      readonly command: CommandSpec;
      readonly globals: GlobalOptions;
      readonly options: Record<string, string | boolean | undefined>;
      readonly args: string[];
    };

/**
 * Reads `argv` (without node and the script): the command is the first word that is not
 * an option or a global option's value; options may come before or after it.
 * @throws UsageError for an unknown command or option, a missing argument, or extra ones.
 */
export function parseCommandLine(argv: readonly string[], commands: readonly CommandSpec[]): Invocation {
  const at = commandIndex(argv);
  const name = at === -1 ? undefined : argv[at];
  const command = commands.find((c) => c.name === name);
  if (name !== undefined && command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  const specs = { ...GLOBAL_OPTIONS, ...command?.options };
  const rest = argv.filter((_, i) => i !== at);
  const { values, positionals } = parseOrExplain(rest, specs);
  if (values.version === true) return { kind: 'version' };
  if (values.help === true || command === undefined) return { kind: 'help', command };
  checkArgs(command, positionals);
  const options = withDefaults(values, specs);
  const globals = { store: String(options.store), json: options.json === true };
  return { kind: 'run', command, globals, options, args: positionals };
}

function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--store' || arg === '-s') i++;
    else if (!arg.startsWith('-')) return i;
  }
  return -1;
}

function parseOrExplain(args: string[], specs: Record<string, OptionSpec>) {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.short !== undefined && { short: spec.short }) };
  }
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs throws a TypeError with an ERR_PARSE_ARGS_* code for every mistake in the line.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function checkArgs(command: CommandSpec, given: readonly string[]): void {
  const required = command.args.filter((a) => a.startsWith('<')).length;
  if (given.length < required) throw new UsageError(`${command.name}: missing ${command.args[given.length]}`);
  if (given.length > command.args.length) {
    throw new UsageError(`${command.name}: unexpected argument ${JSON.stringify(given[command.args.length])}`);
  }
}

/** Given values win over the environment, which wins over the defaults; an empty variable counts as unset. */
function withDefaults(
  values: Record<string, string | boolean | (string | boolean)[] | undefined>,
  specs: Record<string, OptionSpec>,
): Record<string, string | boolean | undefined> {
  const out: Record<string, string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const given = values[name];
    const fromEnv = spec.env === undefined ? undefined : process.env[spec.env] || undefined;
    // No option is declared `multiple`, so parseArgs never gives an array here.
    out[name] = (given as string | boolean | undefined) ?? fromEnv ?? spec.default;
  }
  return out;
}
