import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonCodec, type SessionStore } from '../../src/index.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { POSTGRES_URL, REDIS_URL, serviceAvailable, uniquePrefix } from '../support/services.js';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;

/** Runs the real `tsession` program; resolves its output and exit code. */
async function tsession(args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = run(process.execPath, ['--conditions=tsession-source', '--import', 'tsx', 'src/cli/bin.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, TSESSION_STORE: '' },
  });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  } else {
    child.child.stdin?.end();
  }
  try {
    const { stdout, stderr } = await child;
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

const NOW = Date.now() / 1000;
const VALUES = {
  when: new Date(86_400_000),
  tags: new Set(['a', 'b']),
  big: 2n ** 70n,
  nested: { m: new Map([[1, -0]]) },
};

async function fill(store: SessionStore, count: number) {
  for (let i = 0; i < count; i++) {
    await store.commit(
      `key${String(i).padStart(4, '0')}aaaaaaaaaaaaaaaaaaa`.slice(0, 24),
      {
        create: true,
        touch: { lastAccess: NOW, expiresAt: NOW + 3600 },
        writes: Object.entries(VALUES).map(([k, v]) => ({
          pkg: `pkg.${i % 3}`,
          key: k,
          value: jsonCodec.encode(v, ['p', k]),
        })),
      },
      NOW,
    );
  }
}

describe('the tsession CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsession-cli-'));
  const sqliteUrl = `sqlite:${join(dir, 'source.db')}`;

  beforeAll(async () => {
    const store = new SqliteStore({ path: join(dir, 'source.db') });
    await fill(store, 30);
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists, shows, counts and deletes sessions in SQLite', async () => {
    const list = await tsession(['--store', sqliteUrl, 'list', '--limit', '5']);
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split('\n')).toHaveLength(5);

    const show = await tsession(['--store', sqliteUrl, 'show', 'key0001aaaaaaaaaaaaaaaaa', '--json']);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout).packages['pkg.1']).toHaveProperty('when');

    const stats = await tsession(['--store', sqliteUrl, '--json', 'stats']);
    expect(JSON.parse(stats.stdout)).toMatchObject({ live: 30, packages: { 'pkg.0': { sessions: 10, keys: 40 } } });

    expect((await tsession(['--store', sqliteUrl, 'delete', 'key0029aaaaaaaaaaaaaaaaa'])).code).toBe(0);
    const again = await tsession(['--store', sqliteUrl, 'show', 'key0029aaaaaaaaaaaaaaaaa']);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('no live session');
  });

  it("lists and ends one user's sessions with --principal, sparing --except", async () => {
    const path = join(dir, 'principals.db');
    const store = new SqliteStore({ path });
    const keys = [
      'annaaaaaaaaaaaaaaaaaaa1',
      'annaaaaaaaaaaaaaaaaaaa2',
      'annaaaaaaaaaaaaaaaaaaa3',
      'bobaaaaaaaaaaaaaaaaaaa1',
    ];
    for (const key of keys) {
      const user = key.slice(0, 3);
      const writes = [{ pkg: 'tsession:internal', key: 'principal', value: jsonCodec.encode(user, ['', '']) }];
      await store.commit(key, { create: true, touch: { lastAccess: NOW, expiresAt: NOW + 3600 }, writes }, NOW);
    }
    await store.close();
    const url = `sqlite:${path}`;
    const listed = await tsession(['--store', url, '--json', 'list', '--principal', 'ann']);
    expect(listed.code).toBe(0);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).key),
    ).toEqual(keys.slice(0, 3));
    const ended = await tsession([
      '--store',
      url,
      '--json',
      'end',
      '--principal',
      'ann',
      '--except',
      keys[0] as string,
    ]);
    expect(ended.code).toBe(0);
    expect(JSON.parse(ended.stdout)).toEqual({ principal: 'ann', ended: keys.slice(1, 3) });
    const left = await tsession(['--store', url, 'list', '--principal', 'ann']);
    expect(
      left.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[0]),
    ).toEqual([keys[0]]);
    expect((await tsession(['--store', url, 'list', '--principal', 'bob'])).stdout).toContain(keys[3]);
    expect((await tsession(['--store', url, 'end'])).code).toBe(2);
  });

  it('shows a session by its full client id (key.tag) as well as by its store key', async () => {
    const show = await tsession(['--store', sqliteUrl, '--json', 'show', `key0002aaaaaaaaaaaaaaaaa.${'T'.repeat(43)}`]);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout).key).toBe('key0002aaaaaaaaaaaaaaaaa');
    const notAnId = await tsession(['--store', sqliteUrl, 'show', 'key0002aaaaaaaaaaaaaaaaa.short']);
    expect(notAnId.code).toBe(4);
  });

  it('fails a read-only command on a SQLite file that does not exist, and creates nothing', async () => {
    const missing = join(dir, 'no', 'such', 'dir', 'sessions.db');
    for (const command of [['list'], ['show', 'key0001aaaaaaaaaaaaaaaaa'], ['stats'], ['export']]) {
      const result = await tsession(['--store', `sqlite:${missing}`, ...command]);
      expect(result.code, command[0]).toBe(4);
      expect(result.stderr).toContain(`no SQLite database at ${missing}`);
    }
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('reads the SQLite table prefix from ?table=', async () => {
    const other = await tsession(['--store', `${sqliteUrl}?table=other`, '--json', 'stats']);
    expect(JSON.parse(other.stdout)).toMatchObject({ live: 0 });
    const usual = await tsession(['--store', `${sqliteUrl}?table=tsession`, '--json', 'stats']);
    expect(JSON.parse(usual.stdout).live).toBeGreaterThan(0);
  });

  it("says whether migrate created SQLite's schema or found it", async () => {
    const url = `sqlite:${join(dir, 'migrated.db')}`;
    expect((await tsession(['--store', url, 'migrate'])).stdout).toContain('created the schema');
    const again = await tsession(['--store', url, '--json', 'migrate']);
    expect(JSON.parse(again.stdout)).toEqual({ schema: 'found' });
  });

  it('prints its version, and documents the store URL options in --help', async () => {
    const version = await tsession(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const help = await tsession(['--help']);
    for (const option of ['?prefix=', '?schema=', '&table=', '?table=', 'TSESSION_STORE']) {
      expect(help.stdout).toContain(option);
    }
  });

  it('exits 2 on an unknown command or option, a missing argument or an extra one', async () => {
    for (const args of [['bogus'], ['list', '--bogus'], ['show'], ['delete', 'a', 'b'], ['list', '--limit', 'x']]) {
      const result = await tsession(['--store', sqliteUrl, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('tsession --help');
    }
  });

  it('serves the admin page behind basic auth', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=tsession-source', '--import', 'tsx', 'src/cli/bin.ts', '--store', sqliteUrl, 'serve'].concat([
        '--port',
        '0',
        '--password',
        'cli-test-password',
      ]),
      { cwd: ROOT, env: { ...process.env, TSESSION_STORE: '' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk;
          const found = /admin on (http:\S+)/.exec(out)?.[1];
          if (found) resolve(found);
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      expect((await fetch(url)).status).toBe(401);
      const wrong = `Basic ${Buffer.from('admin:wrong').toString('base64')}`;
      expect((await fetch(url, { headers: { authorization: wrong } })).status).toBe(403);
      const right = `Basic ${Buffer.from('admin:cli-test-password').toString('base64')}`;
      const page = await fetch(url, { headers: { authorization: right } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('key0003aaaaaaaaaaaaaaaaa');
    } finally {
      child.kill();
    }
  });

  it('exits 2 with help on a usage error, and 0 for --help', async () => {
    const bad = await tsession(['--store', 'nosuch:x', 'list']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown store URL');
    const help = await tsession(['export', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--out');
  });

  it('reports a corrupted import file by line, and aborts under --strict', async () => {
    const file = join(dir, 'bad.jsonl');
    await tsession(['--store', sqliteUrl, 'export', '--out', file]);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    writeFileSync(file, [lines[0], '{"v":1,', lines[1]].join('\n'));
    const target = `sqlite:${join(dir, 'bad-target.db')}`;
    const result = await tsession(['--store', target, 'import', file]);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('line 2: not valid JSON');
    expect(result.stdout).toContain('imported 2');
    const strict = await tsession(['--store', `sqlite:${join(dir, 'strict.db')}`, 'import', '--strict', file]);
    expect(strict.code).toBe(5);
    expect(strict.stderr).toContain('line 2');
  });

  it('exports from SQLite and imports into Redis and PostgreSQL identically', async () => {
    const targets: string[] = [];
    if (await serviceAvailable('redis')) targets.push(`${REDIS_URL}?prefix=${uniquePrefix('cli')}:`);
    const schema = uniquePrefix('cli');
    if (await serviceAvailable('postgres')) targets.push(`${POSTGRES_URL}?schema=${schema}`);
    const file = join(dir, 'all.jsonl');
    expect((await tsession(['--store', sqliteUrl, 'export', '--out', file])).code).toBe(0);
    const exported = readFileSync(file, 'utf8').trim().split('\n').sort();
    for (const target of targets) {
      try {
        const migrated = await tsession(['--store', target, '--json', 'migrate']);
        expect(migrated.code).toBe(0);
        const schema = JSON.parse(migrated.stdout).schema;
        expect(schema).toBe(target.startsWith('postgres') ? 'created' : 'none');
        if (target.startsWith('postgres')) {
          const again = await tsession(['--store', target, '--json', 'migrate']);
          expect(JSON.parse(again.stdout)).toEqual({ schema: 'found' });
        }
        const imported = await tsession(['--store', target, '--json', 'import', file]);
        expect(JSON.parse(imported.stdout)).toMatchObject({ imported: exported.length, problems: [] });
        const back = await tsession(['--store', target, 'export']);
        const withoutCreated = (line: string) => ({
          ...JSON.parse(line),
          createdAt: 0,
          entries: JSON.parse(line).entries.sort((a: { key: string }, b: { key: string }) =>
            a.key.localeCompare(b.key),
          ),
        });
        expect(back.stdout.trim().split('\n').sort().map(withoutCreated)).toEqual(exported.map(withoutCreated));
      } finally {
        await cleanup(target, schema);
      }
    }
  });
});

async function cleanup(target: string, schema: string): Promise<void> {
  if (target.startsWith('postgres')) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  } else {
    const { Redis } = await import('ioredis');
    const redis = new Redis(REDIS_URL);
    const prefix = new URL(target).searchParams.get('prefix') ?? '';
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}
