// npm run bench: every registered kernel's bench problems, printed and
// written to bench/results/kernels.json. Options: --filter REGEX, --time MS.
import { fileURLToPath } from 'node:url';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchKernels, formatKernelRow } from '../src/kernels/bench.js';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';

const { values } = parseArgs({ options: { filter: { type: 'string' }, time: { type: 'string', default: '300' } } });

console.log(formatSystemLine(systemInfo(1)));
const report = benchKernels({
  filter: values.filter ? new RegExp(values.filter) : undefined,
  timeMs: Number(values.time),
  onRow: (row) => console.log(formatKernelRow(row)),
});
console.log(`WASM SIMD peak (f32x4 mul+add, one core): ${report.peakGflops.toFixed(1)} GFLOP/s`);
const out = new URL('./results/kernels.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(out)}`);
