import { fileURLToPath } from 'node:url';
import { spawn as spawnAsync, spawnSync } from 'node:child_process';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface RunOptions {
  /** What the command reads on stdin (nothing: an empty stdin). */
  input?: string | Uint8Array;
  timeoutMs?: number;
}

function spawn(options: RunOptions, args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { input: options.input ?? '', timeout: options.timeoutMs ?? 120_000 });
}

/** Runs the `hibiki` command from source, as a user would run it: exit code and output. */
export function hibikiWith(options: RunOptions, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawn(options, args);
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

export const hibiki = (...args: string[]) => hibikiWith({}, ...args);

/** The same, with stdout as bytes (a WAV file written to stdout). */
export function hibikiBytes(options: RunOptions, ...args: string[]): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawn(options, args);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/**
 * The same without blocking this process, so several commands can run at once
 * (and a test can serve a port or read a FIFO meanwhile). A command still
 * running after timeoutMs is killed: its code is null.
 */
export function hibikiAsync(options: RunOptions, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnAsync(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 120_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
