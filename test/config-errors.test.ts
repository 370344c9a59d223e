/**
 * Configuration mistakes a new user makes first give typed, actionable errors: a missing
 * optional peer names the package to install, a secret of the wrong type says what to
 * pass, a non-PostgreSQL URL is refused, and a wrong database or role is a
 * StoreUnavailableError that says what to check (not a raw DatabaseError).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CookieClientIdManager,
  HeaderClientIdManager,
  SessionConfigError,
  StoreUnavailableError,
} from '../src/index.js';
import { optionalPeer } from '../src/optional-peer.js';
import { PostgresStore } from '../src/stores/postgres/index.js';
import { POSTGRES_URL, serviceAvailable } from './support/services.js';

describe('a missing optional peer', () => {
  const absent = 'tsession-test-package-that-does-not-exist';

  it('throws a SessionConfigError naming the package and the command that installs it', () => {
    // The real loader, asked for a package that is not installed: what an app without ioredis gets.
    const load = () => optionalPeer(absent, 'RedisStore');
    expect(load).toThrow(SessionConfigError);
    expect(load).toThrow(`RedisStore needs the package '${absent}'`);
    expect(load).toThrow(`npm install ${absent}`);
  });

  it('passes any other failure through: a package that is there but broken is not reported as missing', () => {
    const broken = () => {
      throw Object.assign(new Error("Cannot find module 'bindings'"), { code: 'MODULE_NOT_FOUND' });
    };
    expect(() => optionalPeer('tsession-test-broken', 'SqliteStore', broken)).toThrow("Cannot find module 'bindings'");
    expect(() => optionalPeer('tsession-test-broken', 'SqliteStore', broken)).not.toThrow(SessionConfigError);
  });

  it('loads an installed peer once, the same module an import gives', async () => {
    const pg = optionalPeer<typeof import('pg')>('pg', 'PostgresStore');
    expect(pg.Pool).toBe((await import('pg')).default.Pool);
  });

  it('no module of the library imports a peer at load, so importing a store never fails for lack of one', async () => {
    const peers = ['better-sqlite3', 'ioredis', 'pg', 'express-session'];
    const offenders: string[] = [];
    const root = join(import.meta.dirname, '../src');
    for (const file of await readdir(root, { recursive: true })) {
      if (!file.endsWith('.ts') || file.startsWith('cli/')) continue;
      const text = await readFile(join(root, file), 'utf8');
      for (const line of text.split('\n')) {
        const from = /^import\s+(?!type\b)[^;]*from\s+'([^']+)'/.exec(line)?.[1];
        if (from && peers.includes(from)) offenders.push(`${file}: ${line}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('a secret of the wrong type', () => {
  for (const secret of [123, { value: 'x'.repeat(40) }, true]) {
    it(`${JSON.stringify(secret)} gives a SessionConfigError that says what to pass, without echoing it`, () => {
      for (const make of [
        () => new CookieClientIdManager({ secret } as never),
        () => new HeaderClientIdManager({ secret } as never),
      ]) {
        expect(make).toThrow(SessionConfigError);
        expect(make).toThrow(/`secret` is an? (number|object|boolean); pass a string of at least 32 random characters/);
      }
    });
  }

  it('an array with a non-string still names the bad entry', () => {
    expect(() => new CookieClientIdManager({ secret: ['x'.repeat(40), 7] } as never)).toThrow(
      /secret #2 is not a string/,
    );
  });
});

describe('PostgresStore connection strings', () => {
  for (const url of ['mysql://root@127.0.0.1:3306/app', 'redis://127.0.0.1:6379', 'localhost:5432/app', '']) {
    it(`refuses ${JSON.stringify(url)} at construction`, () => {
      expect(() => new PostgresStore({ connectionString: url })).toThrow(SessionConfigError);
      expect(() => new PostgresStore({ connectionString: url })).toThrow(/must be a PostgreSQL URL/);
    });
  }

  it('accepts the forms pg reads', async () => {
    for (const url of ['postgres://u@h/db', 'postgresql://u@h:5432/db', 'socket:/var/run/postgresql?db=x', '/tmp']) {
      await new PostgresStore({ connectionString: url }).close();
    }
  });
});

const pgAvailable = await serviceAvailable('postgres');

describe.skipIf(!pgAvailable)('PostgresStore with a wrong database or role', () => {
  const base = new URL(POSTGRES_URL);
  const wrong: [string, (url: URL) => void, RegExp][] = [
    [
      'database',
      (url) => (url.pathname = '/tsession_no_such_database'),
      /database does not exist; check the database name/,
    ],
    ['role', (url) => (url.username = 'tsession_no_such_role'), /check the user \(role\)/],
  ];
  for (const [what, change, message] of wrong) {
    it(`a wrong ${what} is a StoreUnavailableError saying what to check, on migrate and on load`, async () => {
      const url = new URL(base);
      change(url);
      const store = new PostgresStore({ connectionString: url.href });
      try {
        await expect(store.migrate()).rejects.toThrow(StoreUnavailableError);
        await expect(store.migrate()).rejects.toThrow(message);
        await expect(store.load('k', 0)).rejects.toThrow(StoreUnavailableError);
      } finally {
        await store.close();
      }
    });
  }
});

describe.skipIf(!pgAvailable)('the CLI with a wrong database', () => {
  it('exits 3 (unavailable) with the message that says what to check, no stack trace', async () => {
    const url = new URL(POSTGRES_URL);
    url.pathname = '/tsession_no_such_database';
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const args = ['--conditions=tsession-source', '--import', 'tsx', 'src/cli/bin.ts', '--store', url.href, 'stats'];
      const cwd = join(import.meta.dirname, '..');
      execFile(process.execPath, args, { cwd }, (error, _stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    expect(code).toBe(3);
    expect(stderr).toMatch(/PostgreSQL refused the connection.*does not exist.*check the database/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
