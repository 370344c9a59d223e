/**
 * Every `SPEC n` citation in the code, tests and docs names a scenario of
 * docs/behaviour.md, and the document numbers its scenarios 1, 2, 3, ... without a gap
 * or a repeat. Ranges (`SPEC 12-17`), lists (`SPEC 11, 19, 37`, `SPEC 23, 25`) and
 * alternatives (`SPEC 19/11`) count every number they name.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCANNED = ['src', 'test', 'examples', 'scripts', 'bench', 'README.md', 'SECURITY.md', 'docs'];
const SKIPPED = new Set(['node_modules', 'results', '.tmp']);

function files(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full, { throwIfNoEntry: false })) return [];
  if (statSync(full).isFile()) return [path];
  return readdirSync(full)
    .filter((name) => !SKIPPED.has(name))
    .flatMap((name) => files(join(path, name)))
    .filter((file) => /\.(ts|md|js|mjs)$/.test(file));
}

/** The numbers a citation names: `12-17` is 12 to 17; `11, 19 and 37`, `19/11` each number. */
function citedNumbers(text: string): { number: number; where: string }[] {
  const found: { number: number; where: string }[] = [];
  for (const match of text.matchAll(/SPEC (\d+(?:\s*(?:-|\/|,|and)\s*\d+)*)/g)) {
    const list = match[1] as string;
    for (const part of list.split(/\s*(?:\/|,|and)\s*/)) {
      const [from, to = from] = part.split(/\s*-\s*/).map(Number) as [number, number?];
      for (let n = from; n <= (to as number); n++) found.push({ number: n, where: match[0] });
    }
  }
  return found;
}

const doc = readFileSync(join(ROOT, 'docs/behaviour.md'), 'utf8');
const scenarios = [...doc.matchAll(/^(\d+)\. \*\*/gm)].map((m) => Number(m[1]));

describe('docs/behaviour.md and its citations', () => {
  it('numbers its scenarios 1 to n, each once', () => {
    expect(scenarios.length).toBeGreaterThan(40);
    expect(scenarios).toEqual(scenarios.map((_, i) => i + 1));
  });

  it('has every scenario the code, tests and docs cite', () => {
    const known = new Set(scenarios);
    const missing: string[] = [];
    let citations = 0;
    for (const file of SCANNED.flatMap(files)) {
      for (const { number, where } of citedNumbers(readFileSync(join(ROOT, file), 'utf8'))) {
        citations++;
        if (!known.has(number)) missing.push(`${relative(ROOT, join(ROOT, file))}: ${where}`);
      }
    }
    expect(missing).toEqual([]);
    expect(citations).toBeGreaterThan(130);
  });

  it('reads ranges, lists and alternatives', () => {
    expect(citedNumbers('SPEC 12-14, SPEC 11, 19, 37 and SPEC 19/11; SPEC 23 and 40').map((c) => c.number)).toEqual([
      12, 13, 14, 11, 19, 37, 19, 11, 23, 40,
    ]);
  });
});
