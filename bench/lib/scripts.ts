/** Runs the standalone measurement scripts (memory per session, sweep) as children and reads their JSON. */
import { execFile } from 'node:child_process';
import { SOURCE_FLAGS } from './child.js';

const benchDir = new URL('../', import.meta.url).pathname;

/** Runs `bench/<script>.ts --json ...args` with extra node flags; resolves the JSON it prints last. */
export function runScript<T>(script: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...SOURCE_FLAGS, ...nodeFlags, `${benchDir}${script}.ts`, '--json', ...args],
      { maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60 * 1000 },
      (error, stdout, stderr) => {
        process.stderr.write(stderr);
        if (error) return reject(new Error(`${script} failed: ${error.message}`));
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(last) as T);
        } catch {
          reject(new Error(`${script} printed no JSON: ${stdout.slice(-500)}`));
        }
      },
    );
  });
}
