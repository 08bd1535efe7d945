import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { PNG } from 'pngjs';
import { DEFAULT_MODELS } from '../tasks/defaults.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Image } from '../io/image.js';
import { Segmenter } from '../tasks/vision.js';
import { EXIT, usage } from './exit.js';
import { STDIO } from './files.js';
import { makeOutputFolder } from './paths.js';
import { addHiddenAlias, modelOption, workersOption } from './options.js';
import { failureLine, modelConfigOf, readImages, workersFor } from './images.js';

/** Class colours: black background, then matplotlib's tab10. */
export const CLASS_COLOURS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 0], [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

function png(width: number, height: number, pixel: (p: number, out: Buffer, o: number) => void): Uint8Array {
  const image = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) {
    pixel(p, image.data, p * 4);
    image.data[p * 4 + 3] = 255;
  }
  return PNG.sync.write(image);
}

/**
 * The label map in class colours (the model's config.json "palette" if it has one), and the image with
 * the non-background classes blended in at half strength.
 */
export function maskPngs(image: Image, labels: Uint8Array, palette: ReadonlyArray<readonly number[]> = CLASS_COLOURS): { mask: Uint8Array; overlay: Uint8Array } {
  const colour = (k: number) => palette[k % palette.length]!;
  const mask = png(image.width, image.height, (p, out, o) => out.set(colour(labels[p]!), o));
  const overlay = png(image.width, image.height, (p, out, o) => {
    const s = p * image.channels;
    const rgb = image.channels >= 3 ? [image.data[s]!, image.data[s + 1]!, image.data[s + 2]!] : [image.data[s]!, image.data[s]!, image.data[s]!];
    const c = colour(labels[p]!);
    for (let i = 0; i < 3; i++) out[o + i] = labels[p] === 0 ? rgb[i]! : Math.round((rgb[i]! + c[i]!) / 2);
  });
  return { mask, overlay };
}

interface SegmentFlags {
  model: string;
  output: string;
  workers?: number;
}

/** `hibiki segment`: a class per pixel, written as a mask PNG and an overlay PNG per image. */
export function registerSegment(program: Command): void {
  const command = program
    .command('segment')
    .description('segment images (PNG or JPEG) with a U-Net: a class per pixel')
    .argument('<images...>', 'image files')
    .addOption(modelOption(DEFAULT_MODELS.segmenter))
    .option('-o, --output <dir>', 'the folder to write NAME-mask.png and NAME-overlay.png to (created if need be)', 'segmented')
    .addOption(workersOption('default: one per core, at most one per image; 0 = in process'))
    .action(async (paths: string[], flags: SegmentFlags) => {
      if (flags.output === STDIO) usage('--output is the folder segment writes two PNGs per image to, not -');
      const folder = makeOutputFolder('--output', flags.output);
      try {
        await segment(paths, flags);
      } finally {
        folder.removeIfEmpty();
      }
    });
  // Until 0.1: -o was --out.
  addHiddenAlias(command, '--out <dir>', 'output');
}

/** The work of `hibiki segment`, once its output folder is there. */
async function segment(paths: string[], flags: SegmentFlags): Promise<void> {
  const config = modelConfigOf(flags.model, ['unet'], 'a segmentation model');
  const names = (config.labels ?? []) as string[];
  const palette = Array.isArray(config.palette) && config.palette.every((c) => Array.isArray(c) && c.length === 3)
    ? config.palette as number[][] : CLASS_COLOURS;
  const { images, errors } = readImages(paths);
  const segmenter = await Segmenter.open(flags.model, { workers: workersFor(images.length, flags.workers) });
  const result = await segmenter.segment(images.map((i) => i.image)).finally(() => segmenter.close());
  const failed = new Map(errors.map((e) => [e.index, e.message]));
  for (const f of result.failures) failed.set(images[f.index]!.index, f.error.message);
  images.forEach((im, i) => {
    const labels = result.results[i]?.labels;
    if (!labels) return;
    const { mask, overlay } = maskPngs(im.image, labels, palette);
    const stem = join(flags.output, basename(im.path, extname(im.path)));
    writeFileAtomic(`${stem}-mask.png`, mask, 'PNG image');
    writeFileAtomic(`${stem}-overlay.png`, overlay, 'PNG image');
    const counts = new Map<number, number>();
    for (const k of labels) counts.set(k, (counts.get(k) ?? 0) + 1);
    const share = [...counts].sort((a, b) => a[0] - b[0])
      .map(([k, n]) => `${names[k] ?? k} ${((100 * n) / labels.length).toFixed(1)}%`).join(', ');
    console.log(`${im.path}: ${share} → ${stem}-mask.png, ${stem}-overlay.png`);
  });
  for (const [i, message] of failed) console.error(failureLine(paths[i]!, message));
  if (failed.size) process.exitCode = EXIT.failure;
}
