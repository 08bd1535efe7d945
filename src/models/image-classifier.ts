/**
 * Image classifiers as batch models: a network (mobilenet.ts, densenet.ts)
 * behind the preprocessing its config.json describes (image-input.ts), so an
 * item is an image of any size and the output its logits.
 */
import { modelFormat } from '../errors.js';
import type { ModelDir } from '../io/model-dir.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { ImageBatchModel, type ImageInput, type ImageItem, parseImageInput, prepareImages } from './image-input.js';
import type { Architecture, BatchModel, ModelLayout } from './model.js';

/** A classifier network: its weights (plain data and addresses), loaded once and attached by workers. */
export interface ClassifierNetwork<Weights> {
  name: string;
  load(rt: Runtime, model: ModelDir): Weights;
  forward(rt: Runtime, weights: Weights, x: Tensor): Tensor;
}

export interface ImageClassifierLayout<Weights> extends ModelLayout {
  input: ImageInput;
  labels: string[];
  weights: Weights;
}

/** Logits per image, in the order given. */
export class ImageClassifier<Weights> extends ImageBatchModel implements BatchModel<ImageItem> {
  readonly architecture: string;
  constructor(
    private readonly rt: Runtime,
    private readonly network: ClassifierNetwork<Weights>,
    readonly layout: ImageClassifierLayout<Weights>,
  ) {
    super();
    this.architecture = network.name;
  }

  run(items: readonly ImageItem[], step: (units?: number) => void): Float32Array[] {
    const { rt } = this;
    return rt.scope(() => {
      const x = prepareImages(rt, items, this.layout.input);
      step();
      const logits = this.network.forward(rt, this.layout.weights, x); // [N, classes]
      const classes = logits.shape[1]!;
      const all = logits.data;
      return items.map((_, i) => all.slice(i * classes, (i + 1) * classes));
    });
  }
}

/** The Architecture of a classifier network: config.json "input" and "labels" besides the network's own keys. */
export function classifierArchitecture<Weights>(network: ClassifierNetwork<Weights>): Architecture {
  return {
    name: network.name,
    load(rt: Runtime, model: ModelDir): BatchModel {
      const file = `${model.dir}/config.json`;
      const input = parseImageInput(file, model.config.input);
      const weights = network.load(rt, model);
      const classes = (model.config.num_classes ?? 0) as number;
      const labels = model.config.labels ?? Array.from({ length: classes }, (_, i) => String(i));
      if (!Array.isArray(labels) || labels.length !== classes || !labels.every((l) => typeof l === 'string')) {
        throw modelFormat(file, `"labels" must list ${classes} strings (one per class)`);
      }
      return new ImageClassifier(rt, network, { architecture: network.name, input, labels: labels as string[], weights });
    },
    attach(rt: Runtime, layout: ModelLayout): BatchModel {
      return new ImageClassifier(rt, network, layout as ImageClassifierLayout<Weights>);
    },
  };
}
