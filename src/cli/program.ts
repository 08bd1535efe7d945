// The `hibiki` command: one file per subcommand, each a thin layer over the
// library. This file builds the program and runs it; exit.ts decides every
// exit code and what a failed command prints.
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerBench } from './bench.js';
import { registerBleu, sacrebleuArgs } from './bleu.js';
import { registerClassify } from './classify.js';
import { registerDetect } from './detect.js';
import { registerEvaluate } from './evaluate.js';
import { errorText, exitCodeOf, usage } from './exit.js';
import { registerGenerate } from './generate.js';
import { registerInfo } from './info.js';
import { registerSegment } from './segment.js';
import { registerServe } from './serve.js';
import { registerTranslate } from './translate.js';
import { registerWorker } from './worker.js';

export function buildProgram(): Command {
  const program = new Command('hibiki')
    .description('neural inference for Node.js on WebAssembly SIMD kernels')
    .version(VERSION)
    // Errors are thrown to run(), which maps them to exit codes (exit.ts); subcommands inherit this.
    .exitOverride();
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

/**
 * Before commander reads the arguments: `hibiki bleu` takes sacreBLEU's
 * multi-letter short flags, and `-q URL` (once short for --queue, now
 * --quiet) is refused with a line saying what to write instead.
 */
export function prepareArgs(args: readonly string[]): string[] {
  const end = args.indexOf('--') === -1 ? args.length : args.indexOf('--');
  for (let i = 0; i < end - 1; i++) {
    if ((args[i] === '-q' || args[i] === '--quiet') && /^rediss?:\/\//i.test(args[i + 1]!)) {
      usage(`${args[i]} means --quiet; give the queue as --queue ${args[i + 1]}`);
    }
  }
  return args[0] === 'bleu' ? ['bleu', ...sacrebleuArgs(args.slice(1))] : [...args];
}

/**
 * Runs `hibiki ARGS`. Resolves to undefined when the command returned (its
 * exit code is process.exitCode: 0, or 1 when some items failed), or to the
 * exit code after printing why it stopped.
 */
export async function run(args: readonly string[]): Promise<number | undefined> {
  try {
    await buildProgram().parseAsync(prepareArgs(args), { from: 'user' });
    return undefined;
  } catch (e) {
    const text = errorText(e);
    if (text !== undefined) console.error(text);
    return exitCodeOf(e);
  }
}
