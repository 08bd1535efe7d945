#!/usr/bin/env node
// The `hibiki` command: one file per subcommand, each a thin layer over the library.
import { Command } from 'commander';
import { HibikiError } from '../errors.js';
import { registerBench } from './bench.js';
import { registerBleu } from './bleu.js';
import { registerClassify } from './classify.js';
import { registerDetect } from './detect.js';
import { registerGenerate } from './generate.js';
import { registerEvaluate } from './evaluate.js';
import { registerInfo } from './info.js';
import { registerSegment } from './segment.js';
import { registerServe } from './serve.js';
import { registerTranslate } from './translate.js';
import { registerWorker } from './worker.js';

import { VERSION } from '../version.js';

export function buildProgram(): Command {
  const program = new Command('hibiki')
    .description('neural inference for Node.js on WebAssembly SIMD kernels')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    // Bad flags are usage errors: exit code 2, as the conventions users know.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  registerGenerate(program);
  registerTranslate(program);
  registerDetect(program);
  registerClassify(program);
  registerSegment(program);
  registerEvaluate(program);
  registerInfo(program);
  registerBench(program);
  registerBleu(program);
  registerServe(program);
  registerWorker(program);
  return program;
}

buildProgram()
  .parseAsync()
  .catch((e: unknown) => {
    // Our own errors are one line for the user; anything else is a bug, with its stack.
    console.error(e instanceof HibikiError ? `error: ${e.message}` : e);
    process.exit(1);
  });
