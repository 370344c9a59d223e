import type { CommandSpec, OptionSpec } from './command.js';
import { GLOBAL_OPTIONS } from './parse.js';
import { STORE_URL_HELP } from './store-url.js';

/** The program's help, or one command's. */
export function helpText(commands: readonly CommandSpec[], command: CommandSpec | undefined): string {
  const lines = command
    ? [`Usage: tsession [options] ${usage(command)}`, '', command.description, ...section('Options:', command.options)]
    : [
        'Usage: tsession [options] <command>',
        '',
        'Inspect, export, import and sweep tsession stores.',
        '',
        'Commands:',
        ...columns(commands.map((c): Row => [usage(c), c.description])),
      ];
  lines.push(...section('Global options:', GLOBAL_OPTIONS), '', 'Stores (--store):');
  lines.push(...STORE_URL_HELP.map((line) => `  ${line}`));
  if (!command) {
    lines.push('', 'Exit codes: 0 ok, 1 failure, 2 usage, 3 store unavailable, 4 not found, 5 import problems.');
    lines.push('Run "tsession <command> --help" for its options.');
  }
  return lines.join('\n');
}

function usage(command: CommandSpec): string {
  return [command.name, ...command.args].join(' ');
}

/** A titled list of options, or nothing for a command without any. */
function section(title: string, options: Readonly<Record<string, OptionSpec>>): string[] {
  return Object.keys(options).length === 0 ? [] : ['', title, ...optionLines(options)];
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  return columns(
    Object.entries(options).map(([name, spec]): Row => {
      const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`;
      const extra = [
        spec.default !== undefined && spec.default !== false && `default: ${spec.default}`,
        spec.env && `env: ${spec.env}`,
      ].filter(Boolean);
      return [flag, extra.length > 0 ? `${spec.description} (${extra.join(', ')})` : spec.description];
    }),
  );
}

type Row = readonly [left: string, right: string];

/** Rows as two aligned columns. */
function columns(rows: readonly Row[]): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
