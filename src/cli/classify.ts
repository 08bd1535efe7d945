import type { Command } from 'commander';
import { DEFAULT_MODELS } from '../tasks/defaults.js';
import { Classifier } from '../tasks/vision.js';
import { EXIT } from './exit.js';
import { jsonOption, modelOption, parseNumber, workersOption } from './options.js';
import { failureLine, modelConfigOf, readImages, workersFor } from './images.js';

interface ClassifyFlags {
  model: string;
  top: number;
  minScore: number;
  json?: boolean;
  workers?: number;
}

/** `hibiki classify`: the top classes of each image. */
export function registerClassify(program: Command): void {
  program
    .command('classify')
    .description('classify images (PNG or JPEG) with an image classifier (DenseNet, MobileNet v2)')
    .argument('<images...>', 'image files')
    .addOption(modelOption(DEFAULT_MODELS.classifier))
    .option('-k, --top <k>', 'classes to show per image', parseNumber('--top', 1, 1000, true), 3)
    .option('--min-score <p>', 'below this probability the best class is not claimed: the image is "unsure" (its classes still listed)', parseNumber('--min-score', 0, 1), 0)
    .addOption(jsonOption())
    .addOption(workersOption('default: one per core, at most one per image; 0 = in process'))
    .action(async (paths: string[], flags: ClassifyFlags) => {
      modelConfigOf(flags.model, ['mobilenet_v2', 'densenet'], 'an image classifier');
      const { images, errors } = readImages(paths);
      const classifier = await Classifier.open(flags.model, { workers: workersFor(images.length, flags.workers) });
      const result = await classifier.classify(images.map((i) => i.image), { top: flags.top }).finally(() => classifier.close());
      const failed = new Map(errors.map((e) => [e.index, e.message]));
      for (const f of result.failures) failed.set(images[f.index]!.index, f.error.message);
      const ranked = new Map(images.flatMap((im, i) => (result.results[i] ? [[im.index, result.results[i]!] as const] : [])));
      const unsure = (i: number) => ranked.get(i)![0]!.probability < flags.minScore;
      if (flags.json) {
        console.log(JSON.stringify(paths.map((image, i) => (failed.has(i) ? { image, error: failed.get(i) }
          : { image, ...(flags.minScore > 0 ? { unsure: unsure(i) } : {}), top: ranked.get(i) })), null, 2));
      } else {
        paths.forEach((path, i) => {
          if (failed.has(i)) return;
          const classes = ranked.get(i)!.map((r) => `${r.label} ${(100 * r.probability).toFixed(1)}%`).join(', ');
          console.log(unsure(i) ? `${path}: unsure (${classes})` : `${path}: ${classes}`);
        });
      }
      for (const [i, message] of failed) console.error(failureLine(paths[i]!, message));
      if (failed.size) process.exitCode = EXIT.failure;
    });
}
