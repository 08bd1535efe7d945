/**
 * Vitest's global setup: the system packages the tests need beyond Node,
 * from Debian: redis-server (the queue tests start a private one on
 * loopback) and sox (the WAV tests check that a real reader takes our files
 * without a warning). On a fresh machine `npm test` installs what is missing
 * when it may (root, or sudo without a password, and apt-get); otherwise it
 * stops with one line saying what to run.
 */
import { spawnSync } from 'node:child_process';

const has = (command: string, ...args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

/** Command → the Debian package that provides it. */
const NEEDED: Record<string, string> = { 'redis-server': 'redis-server', sox: 'sox' };

function install(packages: readonly string[]): void {
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? [] : has('sudo', '-n', 'true') ? ['sudo', '-n'] : undefined;
  if (!prefix || !has('apt-get', '--version')) {
    throw new Error(`${packages.join(' and ')} missing: install (Debian: sudo apt-get install ${packages.join(' ')}), then run npm test again`);
  }
  console.log(`npm test: installing ${packages.join(' and ')} from Debian for the tests (apt-get, once)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', ...packages]]) {
    const [command, ...rest] = [...prefix, ...args] as [string, ...string[]];
    const run = spawnSync(command, rest, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (run.status !== 0) throw new Error(`${packages.join(' and ')} missing and "${[command, ...rest].join(' ')}" failed: install them, then run npm test again`);
  }
}

export default function setup(): void {
  const missing = Object.entries(NEEDED).filter(([command]) => !has(command, '--version')).map(([, pkg]) => pkg);
  if (missing.length) install(missing);
}
