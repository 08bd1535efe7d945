import type { Command } from 'commander';
import { readModelDir } from '../io/model-dir.js';
import { parseNumber } from './options.js';
import { failureLine, readImages, runImages } from './images.js';

/** The model `hibiki classify` uses when --model is not given. */
export const DEFAULT_CLASSIFIER = new URL('../../models/digits-densenet', import.meta.url).pathname;

interface ClassifyFlags {
  model: string;
  top: number;
  json?: boolean;
  workers?: number;
}

export interface Ranked {
  label: string;
  index: number;
  probability: number;
}

/** The `k` most probable classes by softmax over the logits, most probable first (ties by class index). */
export function topK(logits: Float32Array, labels: readonly string[], k: number): Ranked[] {
  const max = Math.max(...logits);
  const exp = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e, index) => ({ label: labels[index] ?? String(index), index, probability: e / sum }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, k);
}

/** `hibiki classify`: the top classes of each image. */
export function registerClassify(program: Command): void {
  program
    .command('classify')
    .description('classify images (PNG or JPEG) with an image classifier (DenseNet, MobileNet v2)')
    .argument('<images...>', 'image files')
    .option('-m, --model <dir>', 'model directory', DEFAULT_CLASSIFIER)
    .option('-k, --top <k>', 'classes to show per image', parseNumber('--top', 1, 1000), 3)
    .option('--json', 'print JSON')
    .option('-w, --workers <n>', 'worker threads (default: one per core, at most one per image; 0 = in process)', parseNumber('--workers', 0, 256))
    .action(async (paths: string[], flags: ClassifyFlags) => {
      const model = readModelDir(flags.model);
      if (!['mobilenet_v2', 'densenet'].includes(model.config.architecture)) {
        program.error(`error: ${flags.model} is a ${model.config.architecture} model, not an image classifier (mobilenet_v2, densenet)`, { exitCode: 2 });
      }
      const labels = (model.config.labels ?? []) as string[];
      const { images, errors } = readImages(paths);
      const result = images.length ? await runImages(flags.model, images.map((i) => i.image), flags.workers) : { outputs: [], failures: [] };
      const failed = new Map(errors.map((e) => [e.index, e.message]));
      for (const f of result.failures) failed.set(images[f.index]!.index, f.error.message);
      const ranked = new Map(images.flatMap((im, i) => (result.outputs[i] ? [[im.index, topK(result.outputs[i]!, labels, Math.round(flags.top))] as const] : [])));
      if (flags.json) {
        console.log(JSON.stringify(paths.map((image, i) => (failed.has(i) ? { image, error: failed.get(i) } : { image, top: ranked.get(i) })), null, 2));
      } else {
        paths.forEach((path, i) => {
          if (failed.has(i)) return;
          console.log(`${path}: ${ranked.get(i)!.map((r) => `${r.label} ${(100 * r.probability).toFixed(1)}%`).join(', ')}`);
        });
      }
      for (const [i, message] of failed) console.error(failureLine(paths[i]!, message));
      if (failed.size) process.exitCode = 1;
    });
}
