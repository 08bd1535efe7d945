import { modelFormat } from '../errors.js';
import type { ModelDir } from '../io/model-dir.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';
import { denseNet } from './densenet.js';
import { mlp } from './mlp.js';
import { faceDetectorArchitecture } from './face-detector.js';
import { mobileNetV2 } from './mobilenet.js';
import { unet } from './image-segmenter.js';
import { marian } from './marian.js';
import { transformer } from './transformer.js';
import { wavenet } from './wavenet.js';

/** Every architecture a config.json can name. */
export const ARCHITECTURES: ReadonlyMap<string, Architecture> = new Map([mlp, transformer, marian, wavenet, mobileNetV2, denseNet, faceDetectorArchitecture, unet].map((a) => [a.name, a]));

function architecture(name: string, where: string): Architecture {
  const a = ARCHITECTURES.get(name);
  if (!a) throw modelFormat(where, `unknown architecture "${name}" (known: ${[...ARCHITECTURES.keys()].join(', ')})`);
  return a;
}

/**
 * Loads a model directory read by readModelDir into `rt`'s heap, by the
 * architecture its config.json names (E_MODEL_FORMAT for an unknown one).
 */
export function loadModel(rt: Runtime, model: ModelDir): BatchModel {
  return architecture(model.config.architecture, `${model.dir}/config.json`).load(rt, model);
}

export function attachModel(rt: Runtime, layout: ModelLayout): BatchModel {
  return architecture(layout.architecture, 'model layout').attach(rt, layout);
}

export type { Architecture, BatchModel, ModelLayout } from './model.js';
