/**
 * MLP: a stack of Linear layers, y = act(x·Wᵀ + b), the last one without
 * activation unless the config says so. An item is a [rows, inputs] batch
 * of feature vectors; a shard's items run as one GEMM per layer.
 *
 * config.json: { "architecture": "mlp", "sizes": [in, hidden…, out],
 *                "activation": "relu", "output_activation": "none" }
 * model.safetensors: layers.{i}.weight [sizes[i+1], sizes[i]] and
 *                    layers.{i}.bias [sizes[i+1]] (PyTorch nn.Linear's layout)
 */
import { badInput, modelFormat } from '../errors.js';
import type { ModelDir } from '../io/model-dir.js';
import { ACTIVATION_CODES, type Activation } from '../runtime/ops/activation.js';
import { type PackedMatrix, gemm, packMatrixValues } from '../runtime/ops/gemm.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../runtime/tensor.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';

export interface MlpConfig {
  /** Layer widths, inputs first: sizes.length − 1 Linear layers. */
  sizes: number[];
  activation: Activation;
  outputActivation: Activation;
}

/** The weights, as addresses in linear memory (shareable with workers). */
export interface MlpWeights extends ModelLayout {
  architecture: 'mlp';
  config: MlpConfig;
  layers: Array<{ weight: PackedMatrix; bias: number }>;
}

function activationOf(file: string, key: string, value: unknown, fallback: Activation): Activation {
  const act = value ?? fallback;
  if (typeof act !== 'string' || !(act in ACTIVATION_CODES)) {
    throw modelFormat(file, `"${key}" must be one of ${Object.keys(ACTIVATION_CODES).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return act as Activation;
}

export function parseMlpConfig(file: string, config: Record<string, unknown>): MlpConfig {
  const sizes = config.sizes;
  if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((s) => Number.isSafeInteger(s) && s > 0)) {
    throw modelFormat(file, `"sizes" must list at least two positive integers (inputs, …, outputs), got ${JSON.stringify(sizes)}`);
  }
  return {
    sizes: sizes as number[],
    activation: activationOf(file, 'activation', config.activation, 'relu'),
    outputActivation: activationOf(file, 'output_activation', config.output_activation, 'none'),
  };
}

/**
 * x·0 is 0 for finite x and NaN for NaN and ±∞: a branch-free pass with four
 * independent sums (this runs on the pool's main thread, which the workers
 * need free: ~0.7 ns a value, against ~1.1 for a Number.isFinite loop).
 */
function allFinite(x: Float32Array): boolean {
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  let p3 = 0;
  const n4 = x.length & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    p0 += x[i]! * 0;
    p1 += x[i + 1]! * 0;
    p2 += x[i + 2]! * 0;
    p3 += x[i + 3]! * 0;
  }
  for (; i < x.length; i++) p0 += x[i]! * 0;
  return p0 + p1 + p2 + p3 === 0;
}

class Mlp implements BatchModel<Float32Array> {
  readonly architecture = 'mlp';
  constructor(
    private readonly rt: Runtime,
    readonly layout: MlpWeights,
  ) {}

  private get inputs(): number {
    return this.layout.config.sizes[0]!;
  }

  check(item: unknown, where: string): asserts item is Float32Array {
    if (!(item instanceof Float32Array)) throw badInput(`${where}: expected a Float32Array of feature rows`);
    if (item.length === 0 || item.length % this.inputs !== 0) {
      throw badInput(`${where}: ${item.length} values is not a whole number of rows of ${this.inputs} features`);
    }
    if (!allFinite(item)) {
      const i = item.findIndex((v) => !Number.isFinite(v));
      throw badInput(`${where}: value ${i} is ${item[i]}, not a finite number`);
    }
  }

  cost(item: Float32Array): number {
    const { sizes } = this.layout.config;
    let macsPerRow = 0;
    for (let i = 0; i + 1 < sizes.length; i++) macsPerRow += sizes[i]! * sizes[i + 1]!;
    return (item.length / this.inputs) * macsPerRow;
  }

  units(item: Float32Array): number {
    return item.length / this.inputs;
  }

  run(items: readonly Float32Array[], step: (units?: number) => void): Float32Array[] {
    const { rt } = this;
    const { config, layers } = this.layout;
    const rows = items.map((x) => x.length / this.inputs);
    const R = rows.reduce((a, b) => a + b, 0);
    return rt.scope(() => {
      let x = rt.tensor([R, this.inputs]); // (R, sizes[0])
      let offset = 0;
      for (const item of items) {
        x.data.set(item, offset);
        offset += item.length;
      }
      layers.forEach((layer, i) => {
        step();
        x = gemm(rt, x, layer.weight, {
          bias: new Tensor(rt.heap, layer.bias, [layer.weight.N]),
          activation: i === layers.length - 1 ? config.outputActivation : config.activation,
        }); // (R, sizes[i + 1])
      });
      const out = x.data;
      const width = config.sizes[config.sizes.length - 1]!;
      let row = 0;
      return rows.map((r) => {
        const y = out.slice(row * width, (row + r) * width);
        row += r;
        return y;
      });
    });
  }
}

export const mlp: Architecture = {
  name: 'mlp',
  load(rt: Runtime, model: ModelDir): BatchModel {
    const configFile = `${model.dir}/config.json`;
    const config = parseMlpConfig(configFile, model.config);
    const layers = config.sizes.slice(1).map((out, i) => {
      const inp = config.sizes[i]!;
      const weight = model.weights.floats(`layers.${i}.weight`, [out, inp], 'config.json sizes');
      const bias = model.weights.floats(`layers.${i}.bias`, [out], 'config.json sizes');
      // [out, in] is Bᵀ: packed as stored, once, next to the other weights.
      const p = packMatrixValues(rt, weight, [out, inp], { transposed: true });
      const b = rt.tensor([out], bias);
      return { weight: p, bias: b.ptr };
    });
    return new Mlp(rt, { architecture: 'mlp', config, layers });
  },
  attach(rt: Runtime, layout: ModelLayout): BatchModel {
    return new Mlp(rt, layout as MlpWeights);
  },
};
