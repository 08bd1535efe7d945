// Prints bench/results/kernels.json as the Markdown table docs/speed.md shows:
//   npx tsx bench/table.ts [results.json]
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import type { KernelBenchReport } from '../src/kernels/bench.js';
import { formatSystemLine } from '../src/runtime/system.js';

const file = process.argv[2] ?? fileURLToPath(new URL('./results/kernels.json', import.meta.url));
const report = JSON.parse(readFileSync(file, 'utf8')) as KernelBenchReport;

console.log(`Measured ${report.date.slice(0, 10)}, \`npm run bench\`; ${formatSystemLine(report.system).replace('system: ', '')};`);
console.log(`WASM SIMD peak ${report.peakGflops.toFixed(1)} GFLOP/s (median over the rows of each row's best round).\n`);
console.log('| problem | ms | GFLOP/s | % of peak | × plain TS | target |');
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
for (const r of report.rows) {
  const rate = r.flops ? r.gflops.toFixed(1) : '';
  const peak = r.flops ? `${Math.round(r.peakFraction * 100)} %` : '';
  const target = r.target === undefined ? '' : `≥ ${Math.round(r.target * 100)} %: ${r.meetsTarget ? 'met' : '**missed**'}`;
  console.log(`| ${r.problem} | ${r.ms.toFixed(3)} | ${rate} | ${peak} | ${r.speedup?.toFixed(1) ?? ''} | ${target} |`);
}
