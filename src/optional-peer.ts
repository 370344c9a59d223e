/**
 * Loads the optional peer dependencies (`better-sqlite3`, `ioredis`, `pg`,
 * `express-session`) when a store first needs one, not when its module is imported, so
 * that an app without the package gets a `SessionConfigError` naming what to install
 * (in the library and the CLI) instead of Node's `ERR_MODULE_NOT_FOUND` from inside
 * `node_modules/tsession`. Modules that use a peer import only its types statically.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { SessionConfigError } from './errors.js';

/** Resolves from tsession's own location, as a static import would. */
const requireFromHere = createRequire(import.meta.url);
const loaded = new Map<string, unknown>();

/**
 * The package `name`, loaded once (all four peers are CommonJS packages, so `require`
 * gives the same module instance an app's `import` does).
 *
 * @param name the package, e.g. `'ioredis'`
 * @param usedBy who needs it, for the message, e.g. `'RedisStore'`
 * @param load how to load it; tests pass a loader for a package that does not exist
 * @throws SessionConfigError when the package is not installed (a missing dependency of
 *   the package itself, or any other failure to load it, is rethrown as it is)
 */
export function optionalPeer<T>(name: string, usedBy: string, load: (id: string) => unknown = requireFromHere): T {
  if (loaded.has(name)) return loaded.get(name) as T;
  let module: unknown;
  try {
    module = load(name);
  } catch (error) {
    if (!isMissing(error, name)) throw error;
    throw new SessionConfigError(
      `${usedBy} needs the package '${name}', which is not installed; install it next to tsession: npm install ${name}`,
    );
  }
  loaded.set(name, module);
  return module as T;
}

/** True when `name` itself cannot be found, not some module it requires in turn. */
function isMissing(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const notFound = code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
  return notFound && typeof message === 'string' && message.includes(`'${name}'`);
}
