import type { CommandSpec, OptionSpec } from './command.js';
import { GLOBAL_OPTIONS } from './parse.js';
import { STORE_URL_HELP } from './store-url.js';

/** The program's help, or one command's. */
export function helpText(commands: readonly CommandSpec[], command: CommandSpec | undefined): string {
  const lines = command
    ? [
        `Usage: tsession [options] ${usage(command)}`,
        '',
        command.description,
        '',
        'Options:',
        ...optionLines(command.options),
      ]
    : [
        'Usage: tsession [options] <command>',
        '',
        'Inspect, export, import and sweep tsession stores.',
        '',
        'Commands:',
        ...columns(commands.map((c) => [usage(c), c.description])),
      ];
  lines.push('', 'Global options:', ...optionLines(GLOBAL_OPTIONS), '', 'Stores (--store):');
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

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  return columns(
    Object.entries(options).map(([name, spec]) => {
      const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`;
      const extra = [
        spec.default !== undefined && spec.default !== false && `default: ${spec.default}`,
        spec.env && `env: ${spec.env}`,
      ].filter(Boolean);
      return [flag, extra.length > 0 ? `${spec.description} (${extra.join(', ')})` : spec.description];
    }),
  );
}

function columns(rows: readonly (readonly [string, string])[] | string[][]): string[] {
  const width = Math.max(...rows.map(([left]) => (left as string).length));
  return rows.map(([left, right]) => `  ${(left as string).padEnd(width)}  ${right}`);
}
