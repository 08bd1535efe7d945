import type { Command } from 'commander';
import { benchKernels, formatKernelRow } from '../kernels/bench.js';
import { formatSystemLine, systemInfo } from '../runtime/system.js';
import { usage } from './exit.js';
import { STDIO, writeOutput } from './files.js';
import { checkOutputFile } from './paths.js';
import { jsonOption, parseNumber } from './options.js';

/** `hibiki bench`: the kernel benchmarks `npm run bench` runs, for users' machines. */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure the kernels on this machine: GFLOP/s, % of the WASM SIMD peak, speedup over plain TypeScript')
    .option('-f, --filter <regex>', 'only kernels or problems matching this regular expression')
    .option('-t, --time <ms>', 'minimum measuring time per problem', parseNumber('--time', 1, 60_000), 300)
    .option('--no-reference', 'skip timing the plain TypeScript reference (faster)')
    .addOption(jsonOption('the report'))
    .option('-o, --output <file>', "also write the JSON report to this file ('-' = stdout: the same as --json)")
    .action(async (options: { filter?: string; time: number; reference: boolean; json?: boolean; output?: string }) => {
      let filter: RegExp | undefined;
      try {
        filter = options.filter === undefined ? undefined : new RegExp(options.filter);
      } catch {
        usage(`--filter "${options.filter}" is not a valid regular expression`);
      }
      if (options.output !== undefined) checkOutputFile('--output', options.output);
      const json = options.json || options.output === STDIO;
      if (!json) console.log(formatSystemLine(systemInfo(1)));
      const report = benchKernels({
        filter,
        timeMs: options.time,
        reference: options.reference,
        onRow: json ? undefined : (row) => console.log(formatKernelRow(row)),
      });
      const text = `${JSON.stringify(report, null, 2)}\n`;
      if (json) await writeOutput(STDIO, text, 'JSON report');
      else console.log(`WASM SIMD peak (f32x4 ${report.system.kernels === 'relaxed' ? 'fused multiply-add' : 'mul+add'}, one core): ${report.peakGflops.toFixed(1)} GFLOP/s`);
      if (options.output && options.output !== STDIO) await writeOutput(options.output, text, 'JSON report');
    });
}
