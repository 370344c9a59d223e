/**
 * The direction of imports: tools (the CLI, the admin page, the JSON Lines transfer) import the
 * core, never the other way, and the root export is the core alone. Read from the sources'
 * static imports, so a new import in the wrong direction fails here.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url).pathname;
const TOOLS = ['cli/', 'admin/', 'transfer/'];

/** The source files a module reaches through its relative static imports (type-only ones included). */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(SRC, file), 'utf8');
    for (const [, specifier] of text.matchAll(/^(?:import|export)[^'";]*?from '(\.[^']+)'/gms)) {
      visit(relative(SRC, join(SRC, dirname(file), (specifier as string).replace(/\.js$/, '.ts'))));
    }
  };
  visit(entry);
  return seen;
}

function manifestExports(): Record<string, Record<string, string>> {
  return JSON.parse(readFileSync(join(SRC, '../package.json'), 'utf8')).exports;
}

describe('import direction', () => {
  it('the root export reaches no tool, and neither does any store, adapter or the templates', () => {
    for (const [subpath, targets] of Object.entries(manifestExports())) {
      const source = typeof targets === 'object' ? targets['tsession-source'] : undefined;
      if (source === undefined || TOOLS.some((tool) => source.startsWith(`./src/${tool}`))) continue;
      const files = [...reachable(source.replace('./src/', ''))];
      expect(
        files.filter((file) => TOOLS.some((tool) => file.startsWith(tool))),
        subpath,
      ).toEqual([]);
    }
  });

  it('only tsession/telemetry imports the optional @opentelemetry/api peer', () => {
    for (const [subpath, targets] of Object.entries(manifestExports())) {
      const source = typeof targets === 'object' ? targets['tsession-source'] : undefined;
      if (source === undefined) continue;
      const importers = [...reachable(source.replace('./src/', ''))].filter((file) =>
        /from '@opentelemetry\//.test(readFileSync(join(SRC, file), 'utf8')),
      );
      expect(importers, subpath).toEqual(subpath === './telemetry' ? ['telemetry/open-telemetry.ts'] : []);
    }
  });

  it('sees the imports it walks (the CLI reaches the transfer tools and the core)', () => {
    const files = reachable('cli/main.ts');
    expect(files).toContain('transfer/import.ts');
    expect(files).toContain('errors.ts');
    expect(files).toContain('cli/commands/serve.ts');
  });
});
