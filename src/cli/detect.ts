import { mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../io/atomic.js';
import { drawBoxes } from '../io/draw-boxes.js';
import { readModelConfig } from '../io/model-dir.js';
import { Detector } from '../models/vision.js';
import { parseNumber } from './options.js';
import { failureLine, readImages, workersFor } from './images.js';

/** The model `hibiki detect` uses when --model is not given: face-api's SSD MobileNet V1 face detector. */
export const DEFAULT_DETECTOR = new URL('../../models/face-detector', import.meta.url).pathname;

interface DetectFlags {
  model: string;
  score?: number;
  iou?: number;
  maxResults?: number;
  json?: string;
  draw?: string;
  workers?: number;
}

/** One detection in COCO's results format, with the file it was found in. */
export interface CocoResultRecord {
  image_id: number;
  file_name: string;
  category_id: number;
  bbox: [number, number, number, number];
  score: number;
}

/** `hibiki detect`: boxes in images as COCO results JSON, optionally drawn. */
export function registerDetect(program: Command): void {
  program
    .command('detect')
    .description('detect objects (by default faces) in images (PNG or JPEG)')
    .argument('<images...>', 'image files')
    .option('-m, --model <dir>', 'model directory', DEFAULT_DETECTOR)
    .option('--score <s>', 'keep boxes scoring above this (default: the model\'s, 0.5 for faces)', parseNumber('--score', 0, 1))
    .option('--iou <t>', 'non-maximum suppression IoU threshold (default: the model\'s, 0.5)', parseNumber('--iou', 0, 1))
    .option('--max-results <n>', 'boxes per image at most (default: the model\'s, 100)', parseNumber('--max-results', 1, 100000))
    .option('--json <file>', 'write the detections as COCO results JSON (image_id = position on the command line, from 1)')
    .option('--draw <dir>', 'write each image with its boxes drawn to DIR/NAME.png')
    .option('-w, --workers <n>', 'worker threads (default: one per core, at most one per image; 0 = in process)', parseNumber('--workers', 0, 256))
    .action(async (paths: string[], flags: DetectFlags) => {
      const config = readModelConfig(flags.model);
      if (!['ssd-mobilenet-v1-face'].includes(config.architecture)) {
        program.error(`error: ${flags.model} is a ${config.architecture} model, not a detector (ssd-mobilenet-v1-face)`, { exitCode: 2 });
      }
      if (flags.draw) mkdirSync(flags.draw, { recursive: true });
      const { images, errors } = readImages(paths);
      const detector = await Detector.open(flags.model, { workers: workersFor(images.length, flags.workers) });
      const started = performance.now();
      const result = await detector.detect(images.map((i) => i.image), {
        score: flags.score, iou: flags.iou, maxResults: flags.maxResults && Math.round(flags.maxResults),
      }).finally(() => detector.close());
      const seconds = (performance.now() - started) / 1000;
      const failed = new Map(errors.map((e) => [e.index, e.message]));
      for (const f of result.failures) failed.set(images[f.index]!.index, f.error.message);
      const label = detector.labels[0] ?? 'face';
      const records: CocoResultRecord[] = [];
      images.forEach((im, i) => {
        const found = result.results[i];
        if (!found) return;
        for (const d of found) records.push({ image_id: im.index + 1, file_name: im.path, category_id: 1, bbox: d.bbox, score: d.score });
        const summary = found.map((d) => `${d.score.toFixed(3)} at [${d.bbox.map((v) => v.toFixed(1)).join(', ')}]`).join('; ');
        console.log(`${im.path}: ${found.length} ${label}${found.length === 1 ? '' : 's'}${found.length ? `: ${summary}` : ''}`);
        if (flags.draw) {
          const name = `${basename(im.path, extname(im.path))}.png`;
          writeFileAtomic(join(flags.draw, name), drawBoxes(im.image, found), 'PNG image');
        }
      });
      if (flags.json) writeFileAtomic(flags.json, new TextEncoder().encode(`${JSON.stringify(records, null, 1)}\n`), 'COCO results JSON');
      for (const [i, message] of failed) console.error(failureLine(paths[i]!, message));
      const done = images.length - result.failures.length;
      console.error(`${done} image${done === 1 ? '' : 's'} in ${seconds.toFixed(2)} s (${(done / seconds).toFixed(2)} images/s)`);
      if (failed.size) process.exitCode = 1;
    });
}
