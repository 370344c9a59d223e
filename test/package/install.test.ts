/**
 * The package as a new user gets it: `npm pack`, then fresh apps in a temp dir that install
 * the tarball and what the README's Install section lists, from the registry. A strict
 * `nodenext` TypeScript app with `skipLibCheck: false` compiles against every subpath and
 * runs; JavaScript apps on Express 4 (ESM, also under `node --conditions=source`) and
 * Express 5 (CommonJS `require`, which Node >= 20.19 supports for ES modules) answer with a
 * session over real HTTP; the CLI runs as `npx tsession`; the library installs no CLI-only
 * dependency.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const INSTALL_TIMEOUT = 240_000;

/** The environment without what a parent `npm run` exports, so each app's npm sees only its own project. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));
}

async function run(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { cwd, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
  }
}

/** Makes an app directory with these files and installs its dependencies. */
async function app(dir: string, name: string, files: Record<string, string>, deps: string[]): Promise<string> {
  const at = join(dir, name);
  mkdirSync(join(at, 'src'), { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(at, file), text);
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...deps], at);
  return at;
}

/** Starts an app that prints `listening <port>`, and resolves its base URL. */
function start(cwd: string, args: string[], started: ChildProcess[]): Promise<string> {
  const child = spawn(process.execPath, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const seen = (chunk: Buffer) => {
      output += chunk;
      const port = /listening (\d+)/.exec(output)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`the app exited with ${code} before listening:\n${output}`)));
  });
}

/** Two requests of one client: the second sees what the first stored. */
async function visitTwice(base: string): Promise<{ first: string; second: string; cookie: string }> {
  const one = await fetch(`${base}/`);
  const cookie = (one.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const first = await one.text();
  const two = await fetch(`${base}/`, { headers: { cookie } });
  return { first, second: await two.text(), cookie };
}

const SECRET = 'an-install-test-secret-of-at-least-32-chars';

/** The README's node:http snippet, on the memory store (no native driver to build). */
const TS_APP = `import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CookieClientIdManager, SessionDataContainer, SessionManager } from 'tsession';
import { withSessions } from 'tsession/http';
import { MemoryStore } from 'tsession/memory';

declare module 'tsession' {
  interface SessionPackages {
    'app.visits': { n: number };
  }
}

const manager = new SessionManager({
  clientIds: new CookieClientIdManager({ secret: process.env.SESSION_SECRET ?? '${SECRET}' }),
  container: new SessionDataContainer({ store: new MemoryStore() }),
});

const server = http.createServer(
  withSessions(manager, async (req, res) => {
    const visits = await req.session.get('app.visits');
    const n: number = (visits.get('n') ?? 0) + 1;
    visits.set('n', n);
    res.end(String(n));
  }),
);
server.listen(0, '127.0.0.1', () => console.log(\`listening \${(server.address() as AddressInfo).port}\`));
`;

/** Every other subpath, type-checked: what the README's TypeScript line must make compile. */
const TS_TYPES = `import type { SessionStore } from 'tsession';
import type { AdminOptions } from 'tsession/admin';
import type { ConnectStoreOptions } from 'tsession/connect';
import type { sessions as expressSessions } from 'tsession/express';
import type { sessions as fastifySessions } from 'tsession/fastify';
import type { sessions as honoSessions } from 'tsession/hono';
import type { PostgresStoreOptions } from 'tsession/postgres';
import type { RedisStoreOptions } from 'tsession/redis';
import type { SqliteStoreOptions } from 'tsession/sqlite';
import type { describeStoreContract } from 'tsession/store';
import type { openTelemetry } from 'tsession/telemetry';
import type { sessionPath } from 'tsession/templates';
import type { importSessions } from 'tsession/transfer';
import type { withSessions } from 'tsession/web';

export type Everything = [
  SessionStore,
  AdminOptions,
  ConnectStoreOptions,
  typeof expressSessions,
  typeof fastifySessions,
  typeof honoSessions,
  PostgresStoreOptions,
  RedisStoreOptions,
  SqliteStoreOptions,
  typeof describeStoreContract,
  typeof openTelemetry,
  typeof sessionPath,
  typeof importSessions,
  typeof withSessions,
];
`;

/** Koa, typed through `ctx.tsession`. */
const TS_KOA = `import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { CookieClientIdManager, SessionDataContainer, SessionManager } from 'tsession';
import { sessions } from 'tsession/koa';
import { MemoryStore } from 'tsession/memory';

const manager = new SessionManager({
  clientIds: new CookieClientIdManager({ secret: process.env.SESSION_SECRET ?? '${SECRET}' }),
  container: new SessionDataContainer({ store: new MemoryStore() }),
});
const app = new Koa();
app.use(sessions(manager));
app.use(async (ctx) => {
  const visits = await ctx.tsession.get('app.visits');
  const n = Number(visits.get('n') ?? 0) + 1;
  visits.set('n', n);
  ctx.body = String(n);
});
const server = app.listen(0, '127.0.0.1', () => console.log(\`listening \${(server.address() as AddressInfo).port}\`));
`;

const TS_CONFIG = JSON.stringify({
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    skipLibCheck: false,
    esModuleInterop: true,
    outDir: 'dist',
    rootDir: 'src',
    types: ['node'],
  },
  include: ['src'],
});

/** The README's Express snippet, as a plain ES module. */
const EXPRESS_ESM = `import express from 'express';
import { CookieClientIdManager, SessionDataContainer, SessionManager } from 'tsession';
import { sessions } from 'tsession/express';
import { MemoryStore } from 'tsession/memory';

const manager = new SessionManager({
  clientIds: new CookieClientIdManager({ secret: process.env.SESSION_SECRET ?? '${SECRET}' }),
  container: new SessionDataContainer({ store: new MemoryStore() }),
});
const app = express();
app.use(sessions(manager));
app.get('/', async (req, res, next) => {
  try {
    const visits = await req.tsession.get('app.visits');
    visits.set('n', (visits.get('n') ?? 0) + 1);
    res.send(String(visits.get('n')));
  } catch (error) {
    next(error);
  }
});
const server = app.listen(0, '127.0.0.1', () => console.log(\`listening \${server.address().port}\`));
`;

/** The same app in CommonJS. */
const EXPRESS_CJS = EXPRESS_ESM.replace(
  /^import express from 'express';\nimport \{ (.+) \} from 'tsession';\nimport \{ sessions \} from 'tsession\/express';\nimport \{ MemoryStore \} from 'tsession\/memory';/,
  "const express = require('express');\nconst { $1 } = require('tsession');\nconst { sessions } = require('tsession/express');\nconst { MemoryStore } = require('tsession/memory');",
);

describe('the packed tarball in fresh apps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsession-install-'));
  const started: ChildProcess[] = [];
  let tarball = '';
  let packed: string[] = [];

  beforeAll(async () => {
    const [report] = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', dir], ROOT));
    tarball = join(dir, report.filename);
    packed = report.files.map((f: { path: string }) => f.path);
  }, INSTALL_TIMEOUT);

  afterAll(() => {
    for (const child of started) child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ships the license, the README, the built code and every file its exports name, and no tests', () => {
    expect(packed).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js']));
    expect(packed.filter((path) => path.startsWith('test/') || path.endsWith('.test.ts'))).toEqual([]);
    const { exports } = manifest();
    for (const [subpath, targets] of Object.entries(exports)) {
      for (const [condition, target] of Object.entries(typeof targets === 'string' ? { default: targets } : targets)) {
        // A bare 'source' condition would send any app run with --conditions=source to .ts files.
        expect(condition).not.toBe('source');
        expect(packed, `${subpath} → ${target}`).toContain(target.replace(/^\.\//, ''));
      }
    }
  });

  it(
    'compiles in a strict nodenext TypeScript app with skipLibCheck off, and runs',
    async () => {
      const at = await app(
        dir,
        'ts-app',
        {
          'package.json': JSON.stringify({ name: 'ts-app', private: true, type: 'module' }),
          'tsconfig.json': TS_CONFIG,
          'src/app.ts': TS_APP,
          'src/types.ts': TS_TYPES,
        },
        [
          tarball,
          `typescript@${(await import('typescript')).version}`,
          '@types/node@20',
          // The README's Install lines: each store's and framework's packages, and their @types.
          '@types/better-sqlite3',
          'ioredis',
          'pg',
          '@types/pg',
          'express',
          '@types/express',
          'fastify',
          'hono',
          '@opentelemetry/api',
        ],
      );
      await run(process.execPath, [join(at, 'node_modules/typescript/bin/tsc'), '-p', '.'], at);
      const { first, second } = await visitTwice(await start(at, ['dist/app.js'], started));
      expect([first, second]).toEqual(['1', '2']);
    },
    INSTALL_TIMEOUT,
  );

  // Apart from the other app: with express 5 in the same tree, @types/koa resolves
  // 'content-disposition' to the typed v2 that express hoists and fails to compile (their clash).
  it(
    'compiles a strict nodenext Koa app with skipLibCheck off',
    async () => {
      const at = await app(
        dir,
        'ts-koa',
        {
          'package.json': JSON.stringify({ name: 'ts-koa', private: true, type: 'module' }),
          'tsconfig.json': TS_CONFIG,
          'src/app.ts': TS_KOA,
        },
        [tarball, `typescript@${(await import('typescript')).version}`, '@types/node@20', 'koa', '@types/koa'],
      );
      await run(process.execPath, [join(at, 'node_modules/typescript/bin/tsc'), '-p', '.'], at);
      const { first, second } = await visitTwice(await start(at, ['dist/app.js'], started));
      expect([first, second]).toEqual(['1', '2']);
    },
    INSTALL_TIMEOUT,
  );

  it(
    'runs on Express 4 as an ES module, also under node --conditions=source, with no CLI-only dependency; npx tsession names a missing driver',
    async () => {
      const at = await app(
        dir,
        'express4',
        {
          'package.json': JSON.stringify({ name: 'express4-app', private: true, type: 'module' }),
          'app.js': EXPRESS_ESM,
        },
        [tarball, 'express@4'],
      );
      for (const args of [['app.js'], ['--conditions=source', 'app.js']]) {
        const { first, second, cookie } = await visitTwice(await start(at, args, started));
        expect(cookie).toMatch(/^tsession=/);
        expect([first, second]).toEqual(['1', '2']);
      }
      const tree = JSON.parse(await run('npm', ['ls', '--omit=dev', '--all', '--json'], at));
      expect(tree.dependencies.express.version).toMatch(/^4\./);
      // Optional peers the app does not have are listed without a version; what is there is cookie and the app's express.
      const installed = Object.entries(tree.dependencies.tsession.dependencies ?? {}).filter(
        ([, node]) => (node as { version?: string }).version !== undefined,
      );
      expect(installed.map(([name]) => name).sort()).toEqual(['cookie', 'express']);
      expect(JSON.stringify(tree)).not.toMatch(/"(commander|cli-progress)"/);
      expect((await run('npx', ['--no-install', 'tsession', '--version'], at)).trim()).toBe(manifest().version);
      // This app has no store driver: the CLI names the package to install.
      for (const [store, driver] of [
        ['sqlite:./sessions.db', 'better-sqlite3'],
        ['redis://127.0.0.1:1', 'ioredis'],
        ['postgres://127.0.0.1:1/x', 'pg'],
      ]) {
        const failed = await run('npx', ['--no-install', 'tsession', '--store', store as string, 'migrate'], at).then(
          () => undefined,
          (error: Error) => error.message,
        );
        expect(failed).toContain(`npm install ${driver}`);
      }
    },
    INSTALL_TIMEOUT,
  );

  it(
    'runs on Express 5 through CommonJS require',
    async () => {
      const at = await app(
        dir,
        'express5',
        {
          'package.json': JSON.stringify({ name: 'express5-app', private: true, type: 'commonjs' }),
          'app.js': EXPRESS_CJS,
        },
        [tarball, 'express@5'],
      );
      expect(EXPRESS_CJS).toContain("require('tsession/express')");
      const { first, second } = await visitTwice(await start(at, ['app.js'], started));
      expect([first, second]).toEqual(['1', '2']);
    },
    INSTALL_TIMEOUT,
  );
});

function manifest(): { version: string; exports: Record<string, string | Record<string, string>> } {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
}
