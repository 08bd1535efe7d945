/**
 * Vitest's global setup: the one system package the tests need beyond Node,
 * Debian's redis-server (the queue tests start a private one on loopback).
 * On a fresh machine `npm test` installs it when it may (root, or sudo
 * without a password, and apt-get); otherwise it stops with one line saying
 * what to run.
 */
import { spawnSync } from 'node:child_process';

const has = (command: string, ...args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

function install(): void {
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? [] : has('sudo', '-n', 'true') ? ['sudo', '-n'] : undefined;
  if (!prefix || !has('apt-get', '--version')) {
    throw new Error('redis-server is missing: install it (Debian: sudo apt-get install redis-server), then run npm test again');
  }
  console.log('npm test: installing redis-server from Debian for the queue tests (apt-get, once)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', 'redis-server']]) {
    const [command, ...rest] = [...prefix, ...args] as [string, ...string[]];
    const run = spawnSync(command, rest, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (run.status !== 0) throw new Error(`redis-server is missing and "${[command, ...rest].join(' ')}" failed: install redis-server, then run npm test again`);
  }
}

export default function setup(): void {
  if (!has('redis-server', '--version')) install();
}
