#!/usr/bin/env node
// The `hibiki` executable: program.ts builds the commands, exit.ts the exit codes.
import { run } from './program.js';

const code = await run(process.argv.slice(2));
if (code !== undefined) {
  // Stopped by an error or by --help: exit once stdout has drained, whatever workers or sockets are still open.
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}
