// Runs a PyTorch Linear layer stored in safetensors on hibiki's kernels and
// compares the result with PyTorch's own output stored beside it.
//
//   npx tsx samples/linear.ts [FILE.safetensors] [CASE]
//
// By default it uses the parity fixtures that tools/fixtures.py wrote.
import { fileURLToPath } from 'node:url';
import { Runtime, formatShape, gemm, packMatrix, readSafetensors, type Activation } from 'hibiki';

const path = process.argv[2] ?? fileURLToPath(new URL('../test/fixtures/gemm.safetensors', import.meta.url));
const name = process.argv[3] ?? 'linear_33x64x9_gelu';
const file = readSafetensors(path);
const tensor = (key: string) => {
  const t = file.get(`${name}.${key}`);
  if (!(t.data instanceof Float32Array)) throw new Error(`${name}.${key} is not a float tensor`);
  return { shape: t.shape, data: t.data };
};
const x = tensor('x');
const weight = tensor('weight'); // [out, in], as PyTorch stores it
const bias = tensor('bias');
const expected = tensor('y');
const act = name.split('_').pop() as Activation;

const rt = Runtime.create();
// Packed once (as a model loader does), then reused by every call.
const w = packMatrix(rt, rt.tensor(weight.shape, weight.data), { transposed: true });
const b = rt.tensor(bias.shape, bias.data);

const y = rt.scope(() => {
  const out = gemm(rt, rt.tensor(x.shape, x.data), w, { bias: b, activation: act });
  return { shape: out.shape, data: out.toArray() };
});

let worst = 0;
y.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected.data[i]!))));
console.log(`${name}: ${formatShape(x.shape)} → ${formatShape(y.shape)} (${act}), max |hibiki − PyTorch| = ${worst.toExponential(2)}`);
