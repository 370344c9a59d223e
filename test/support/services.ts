/**
 * Real services for the tests that need them. In CI (`CI=true`) a service that does
 * not answer fails the test run; on a developer's machine those tests are skipped,
 * loudly, with the command that starts the service.
 */
import { createConnection } from 'node:net';

export const REDIS_URL = process.env.TSESSION_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const POSTGRES_URL = process.env.TSESSION_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const START = {
  redis:
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  postgres: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
} as const;

function reachable(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Resolves true when the service answers. When it does not: throws under CI, and
 * otherwise prints a loud warning and resolves false, so the caller can skip.
 */
export async function serviceAvailable(name: keyof typeof START): Promise<boolean> {
  const port = name === 'redis' ? 6379 : 5432;
  if (await reachable(port)) return true;
  const message = `${name} is not reachable on 127.0.0.1:${port}; start it with: ${START[name]}`;
  if (process.env.CI === 'true') throw new Error(`CI needs ${message}`);
  console.warn(`\n!!! SKIPPING ${name} TESTS: ${message}\n`);
  return false;
}

/** A prefix no other test run uses, for keys, tables and schemas. */
export function uniquePrefix(label: string): string {
  return `tsession_test_${label}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
