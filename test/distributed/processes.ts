import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const APP = fileURLToPath(new URL('./app.ts', import.meta.url));

/** One running copy of `app.ts`. */
export interface AppProcess {
  readonly base: string;
  readonly pid: number;
  /** Everything the process wrote to stderr, for failure messages. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `app.ts` in a child process (`node --conditions=tsession-source --import tsx`) and waits until it listens. */
export function startApp(env: Record<string, string>): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--conditions=tsession-source', '--import', 'tsx', APP], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) => reject(new Error(`app exited (${code}) before listening:\n${stderr}`));
    child.once('exit', exited);
    child.once('error', reject);
    createInterface({ input: child.stdout as NonNullable<typeof child.stdout> }).once('line', (line) => {
      child.off('exit', exited);
      const { port } = JSON.parse(line) as { port: number };
      resolve({
        base: `http://127.0.0.1:${port}`,
        pid: child.pid as number,
        stderr: () => stderr,
        stop: () => stopChild(child),
      });
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A browser of one session: keeps the session cookie and sends it to whichever app it asks. */
export class CookieClient {
  #cookie: string | undefined;

  async get(app: AppProcess, path: string): Promise<{ status: number; body: Record<string, unknown> | string }> {
    const response = await fetch(app.base + path, this.#cookie ? { headers: { cookie: this.#cookie } } : {});
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.#cookie = setCookie.split(';')[0];
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.includes('application/json');
    return { status: response.status, body: isJson ? (JSON.parse(text) as Record<string, unknown>) : text };
  }

  get cookie(): string | undefined {
    return this.#cookie;
  }
}
