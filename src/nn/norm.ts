/**
 * Layer normalisation (PyTorch's nn.LayerNorm over the last dimension) as a
 * layer: γ and β in linear memory and ε, a plain object a worker can attach
 * to, applied over rows.
 */
import { shapeError } from '../errors.js';
import type { SafeTensorsFile } from '../io/safetensors.js';
import type { Runtime } from '../runtime/runtime.js';
import { type Tensor, formatShape } from '../runtime/tensor.js';
import { type Vector, vector } from './linear.js';

/** nn.LayerNorm(d): y = (x − mean) / √(var + ε) · γ + β over each row's d features (biased variance). */
export interface LayerNorm {
  weight: Vector; // γ (d)
  bias: Vector; // β (d)
  eps: number;
}

/** Reads `name`.weight and `name`.bias, both [d]. */
export function loadLayerNorm(rt: Runtime, file: SafeTensorsFile, name: string, d: number, eps: number): LayerNorm {
  return {
    weight: vector(rt, file.floats(`${name}.weight`, [d])),
    bias: vector(rt, file.floats(`${name}.bias`, [d])),
    eps,
  };
}

/**
 * x (rows, d) normalised into y (rows, d), both preallocated (y may be x
 * itself): the per-step form, which allocates nothing and checks only that
 * the two hold the same whole rows.
 */
export function layerNormInto(rt: Runtime, layer: LayerNorm, x: Tensor, y: Tensor): void {
  const d = layer.weight.length;
  if (x.size !== y.size || x.size % d !== 0) throw rowsError(x, y, d);
  rt.kernels.f32_layernorm(x.size / d, d, x.ptr, layer.weight.ptr, layer.bias.ptr, layer.eps, y.ptr);
}

// Out of line, so that layerNormInto stays small enough for the JIT to inline.
function rowsError(x: Tensor, y: Tensor, d: number) {
  return shapeError(`layerNormInto: x ${formatShape(x.shape)} and y ${formatShape(y.shape)} must be the same rows of ${d} features`);
}
