import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, CommanderError, Option } from 'commander';
import { SessionConfigError, StoreUnavailableError } from '../errors.js';
import { exportLine } from '../transfer/export.js';
import { ImportLineError, importSessions } from '../transfer/import.js';
import { sessionJson, sessionText, storeStats, summaryLine } from './inspect.js';
import { progress } from './progress.js';
import { serveAdmin } from './serve.js';
import { type OpenedStore, openStore } from './store-url.js';

/** What the exit code says; scripts can rely on these. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unavailable: 3, notFound: 4, importProblems: 5 } as const;

interface GlobalOptions {
  store: string;
  json: boolean;
}

const now = () => Date.now() / 1000;

/** The `tsession` command line program. */
export function createProgram(): Command {
  const program = new Command('tsession')
    .description('Inspect, export, import and sweep tsession stores.')
    .addOption(
      new Option(
        '-s, --store <url>',
        'the store: sqlite:./data/sessions.db, redis://..., redis+cluster://..., postgres://...',
      )
        .env('TSESSION_STORE')
        .default('sqlite:./data/sessions.db'),
    )
    .option('--json', 'machine-readable output', false)
    .showHelpAfterError()
    .exitOverride();

  program
    .command('list')
    .description('list live sessions: key, last access, expiry, packages')
    .option('-n, --limit <count>', 'at most this many', parseCount, 100)
    .action(
      withStore(async ({ store }, { json }, options: { limit: number }) => {
        let shown = 0;
        for await (const session of store.scan(now())) {
          if (shown++ >= options.limit) break;
          console.log(json ? JSON.stringify(sessionJson(session.key, session)) : summaryLine(session));
        }
      }),
    );

  program
    .command('show <id>')
    .description('show one session (by store key or full client id)')
    .action(
      withStore(async ({ store }, { json }, id: string) => {
        const key = storeKey(id);
        const session = await store.load(key, now());
        if (!session) return notFound(key);
        console.log(json ? JSON.stringify(sessionJson(key, session), null, 2) : sessionText(key, session));
      }),
    );

  program
    .command('delete <id>')
    .description('delete one session (by store key or full client id)')
    .action(
      withStore(async ({ store }, { json }, id: string) => {
        const key = storeKey(id);
        const deleted = await store.destroy(key);
        if (json) console.log(JSON.stringify({ key, deleted }));
        else if (deleted) console.log(`deleted ${key}`);
        if (!deleted) notFound(key);
      }),
    );

  program
    .command('sweep')
    .description('remove expired sessions now')
    .action(
      withStore(async ({ store }, { json }) => {
        const bar = progress('sweep', undefined, !json);
        let removed = 0;
        const started = performance.now();
        const count = await store.sweep(now(), { onRemoved: (keys) => bar.update((removed += keys.length)) });
        bar.stop();
        const seconds = (performance.now() - started) / 1000;
        console.log(
          json
            ? JSON.stringify({ removed: count, seconds })
            : `removed ${count} expired sessions in ${seconds.toFixed(2)} s`,
        );
      }),
    );

  program
    .command('stats')
    .description('live sessions, per-package counts and sizes, sessions expiring soon')
    .option('--soon <seconds>', 'what "expiring soon" means', parseCount, 300)
    .action(
      withStore(async ({ store }, { json }, options: { soon: number }) => {
        const stats = await storeStats(store, now(), options.soon);
        if (json) return console.log(JSON.stringify(stats));
        console.log(`live sessions     ${stats.live}`);
        console.log(`expiring in ${stats.soonSeconds}s  ${stats.expiringSoon}`);
        console.log(`data bytes        ${stats.bytes}`);
        for (const [pkg, p] of Object.entries(stats.packages)) {
          console.log(`  ${pkg}: ${p.sessions} sessions, ${p.keys} keys, ${p.bytes} bytes`);
        }
      }),
    );

  program
    .command('export')
    .description('write every live session as JSON Lines')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(
      withStore(async ({ store }, { json }, options: { out?: string }) => {
        const total = await store.count?.(now());
        const bar = progress('export', total, !json && options.out !== undefined);
        let exported = 0;
        async function* lines() {
          for await (const session of store.scan(now())) {
            yield `${exportLine(session)}\n`;
            bar.update(++exported);
          }
        }
        await pipeline(Readable.from(lines()), options.out ? createWriteStream(options.out) : process.stdout, {
          end: options.out !== undefined,
        });
        bar.stop();
        if (options.out)
          console.log(json ? JSON.stringify({ exported }) : `exported ${exported} sessions to ${options.out}`);
      }),
    );

  program
    .command('import [file]')
    .description('read JSON Lines (a file, or stdin) into the store')
    .option('--strict', 'stop at the first malformed line', false)
    .option('--replace', 'replace sessions that already exist', false)
    .action(
      withStore(
        async ({ store }, { json }, file: string | undefined, options: { strict: boolean; replace: boolean }) => {
          const bar = progress('import', undefined, !json);
          const input = file ? createReadStream(file) : process.stdin;
          const report = await importSessions(store, input, {
            strict: options.strict,
            replace: options.replace,
            onProgress: (r) => bar.update(r.imported + r.skipped),
          });
          bar.stop();
          if (json) console.log(JSON.stringify(report));
          else {
            console.log(`imported ${report.imported}, skipped ${report.skipped} (existing or expired)`);
            for (const p of report.problems) console.error(`line ${p.line}: ${p.message}`);
          }
          if (report.problems.length > 0) process.exitCode = EXIT.importProblems;
        },
      ),
    );

  program
    .command('migrate')
    .description('create the store schema (PostgreSQL; SQLite and Redis need none)')
    .action(
      withStore(async ({ migrate }, { json }) => {
        await migrate?.();
        console.log(
          json
            ? JSON.stringify({ migrated: migrate !== undefined })
            : migrate
              ? 'schema is up to date'
              : 'this store needs no migration',
        );
      }),
    );

  program
    .command('serve')
    .description('serve the admin page for the store (HTTP basic auth, user "admin")')
    .option('-p, --port <port>', 'port to listen on', parseCount, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(
      new Option('--password <password>', 'the admin password (default: a random one, printed)').env(
        'TSESSION_ADMIN_PASSWORD',
      ),
    )
    .action(async function serve(this: Command, options: { port: number; host: string; password?: string }) {
      const { store } = await openStore(this.optsWithGlobals<GlobalOptions>().store);
      const admin = await serveAdmin(store, options);
      console.log(`tsession admin on ${admin.url} (user "admin", password ${admin.passwordShown})`);
    });

  return program;
}

type Action<A extends unknown[]> = (opened: OpenedStore, globals: GlobalOptions, ...args: A) => Promise<void>;

/** Opens the store named by `--store`, runs the action, and always closes the store. */
function withStore<A extends unknown[]>(action: Action<A>) {
  return async function run(this: Command, ...args: unknown[]): Promise<void> {
    const globals = this.optsWithGlobals<GlobalOptions>();
    const opened = await openStore(globals.store);
    try {
      await action(opened, globals, ...(args.slice(0, action.length - 2) as A));
    } finally {
      await opened.store.close();
    }
  };
}

/** The store key of a full client id (`key.tag`) or of a bare key. */
function storeKey(id: string): string {
  const dot = id.indexOf('.');
  return dot === 24 ? id.slice(0, dot) : id;
}

function notFound(key: string): void {
  console.error(`no live session ${key}`);
  process.exitCode = EXIT.notFound;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CommanderError(EXIT.usage, 'tsession.count', `not a count: ${value}`);
  return n;
}

/** Runs the program on `argv`, turning errors into messages and exit codes. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeOf(error);
    if (!(error instanceof CommanderError)) console.error(error instanceof Error ? error.message : String(error));
  }
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof StoreUnavailableError) return EXIT.unavailable;
  if (error instanceof SessionConfigError) return EXIT.usage;
  if (error instanceof ImportLineError) return EXIT.importProblems;
  return EXIT.failure;
}
