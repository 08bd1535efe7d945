import { readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_MODELS } from '../tasks/defaults.js';
import { writeFileAtomic } from '../io/atomic.js';
import { drawBoxes } from '../io/draw-boxes.js';
import { type Image, decodeImage } from '../io/image.js';
import { type DetectOptions, type DetectedObject, Detector } from '../tasks/vision.js';
import { type DetectShard, type DetectShardResult, planDetectShards } from '../queue/detect.js';
import { EXIT, usage } from './exit.js';
import { STDIO, writeOutput } from './files.js';
import { checkOutputFile, makeOutputFolder } from './paths.js';
import { JSON_HELP, attemptsOption, modelOption, parseNumber, queueOption, quietOption, workersOption } from './options.js';
import { failureLine, modelConfigOf, readImages, workersFor } from './images.js';
import { queueFlag, removeQueuedJob, runQueuedJob } from './queue.js';

interface DetectFlags {
  model: string;
  score?: number;
  iou?: number;
  maxResults?: number;
  json?: string;
  draw?: string;
  workers?: number;
  quiet?: boolean;
  queue?: string;
  shardImages: number;
  attempts: number;
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
    .addOption(modelOption(DEFAULT_MODELS.detector))
    .option('--score <s>', 'keep boxes scoring above this (default: the model\'s, 0.5 for faces)', parseNumber('--score', 0, 1))
    .option('--iou <t>', 'non-maximum suppression IoU threshold (default: the model\'s, 0.5)', parseNumber('--iou', 0, 1))
    .option('--max-results <n>', 'boxes per image at most (default: the model\'s, 100)', parseNumber('--max-results', 1, 100000, true))
    .option('--json <file>', `${JSON_HELP} to FILE ('-' = stdout; the text lines then go to stderr): COCO results, image_id = position on the command line, from 1`)
    .option('--draw <dir>', 'write each image with its boxes drawn to DIR/NAME.png')
    .addOption(workersOption('default: one per core, at most one per image; 0 = in process'))
    .addOption(quietOption())
    .addOption(queueOption())
    .option('--shard-images <n>', 'with --queue: images per shard (one queue job)', parseNumber('--shard-images', 1, 10000, true), 8)
    .addOption(attemptsOption())
    .action(async (paths: string[], flags: DetectFlags) => {
      if (flags.draw === STDIO) usage('--draw writes one PNG per image: give a folder, not -');
      const queueUrl = queueFlag(flags.queue);
      // Given empty (--json ''), a path is refused as such, not taken as absent.
      if (flags.json !== undefined) checkOutputFile('--json', flags.json);
      const drawn = flags.draw === undefined ? undefined : makeOutputFolder('--draw', flags.draw);
      try {
        await detect(paths, flags, queueUrl);
      } finally {
        drawn?.removeIfEmpty();
      }
    });
}

/** The work of `hibiki detect`, once its output paths are known to be writable. */
async function detect(paths: string[], flags: DetectFlags, queueUrl: URL | undefined): Promise<void> {
  const config = modelConfigOf(flags.model, ['ssd-mobilenet-v1-face'], 'a detector');
  const options = { score: flags.score, iou: flags.iou, maxResults: flags.maxResults };
  const started = performance.now();
  const found = queueUrl ? await detectOnQueue(queueUrl, paths, flags, options) : await detectHere(paths, flags, options);
  const seconds = (performance.now() - started) / 1000;
  // What the model calls what it finds (config.json "labels"; face-api's detector has none: faces).
  const label = Array.isArray(config.labels) && typeof config.labels[0] === 'string' ? config.labels[0] : 'face';
  // With the JSON on stdout, the text lines go to stderr.
  const say = flags.json === STDIO ? console.error : console.log;
  const records: CocoResultRecord[] = [];
  found.results.forEach((boxes, index) => {
    if (!boxes) return;
    const path = paths[index]!;
    for (const d of boxes) records.push({ image_id: index + 1, file_name: path, category_id: 1, bbox: d.bbox, score: d.score });
    const summary = boxes.map((d) => `${d.score.toFixed(3)} at [${d.bbox.map((v) => v.toFixed(1)).join(', ')}]`).join('; ');
    say(`${path}: ${boxes.length} ${label}${boxes.length === 1 ? '' : 's'}${boxes.length ? `: ${summary}` : ''}`);
    if (flags.draw) {
      const name = `${basename(path, extname(path))}.png`;
      writeFileAtomic(join(flags.draw, name), drawBoxes(found.image(index), boxes), 'PNG image');
    }
  });
  if (flags.json) await writeOutput(flags.json, `${JSON.stringify(records, null, 1)}\n`, 'COCO results JSON');
  for (const [i, message] of found.failed) console.error(failureLine(paths[i]!, message));
  const done = paths.length - found.failed.size;
  if (!flags.quiet) console.error(`${done} image${done === 1 ? '' : 's'} in ${seconds.toFixed(2)} s (${(done / seconds).toFixed(2)} images/s)`);
  if (found.failed.size) process.exitCode = EXIT.failure;
  await found.finished?.();
}

/** Boxes per image path (undefined where it failed), the failures by path index, and each image's pixels for --draw. */
interface Found {
  results: Array<DetectedObject[] | undefined>;
  failed: Map<number, string>;
  image: (index: number) => Image;
  /** Called once the outputs are written (a queued job's shards are removed then). */
  finished?: () => Promise<void>;
}

async function detectHere(paths: string[], flags: DetectFlags, options: DetectOptions): Promise<Found> {
  const { images, errors } = readImages(paths);
  const detector = await Detector.open(flags.model, { workers: workersFor(images.length, flags.workers) });
  const result = await detector.detect(images.map((i) => i.image), options).finally(() => detector.close());
  const failed = new Map(errors.map((e) => [e.index, e.message]));
  for (const f of result.failures) failed.set(images[f.index]!.index, f.error.message);
  const results: Found['results'] = paths.map(() => undefined);
  images.forEach((im, i) => (results[im.index] = result.results[i]));
  const byIndex = new Map(images.map((im) => [im.index, im.image]));
  return { results, failed, image: (index) => byIndex.get(index)! };
}

/** The files' bytes go to the queue's workers, which decode and detect; here only --draw decodes. */
async function detectOnQueue(url: URL, paths: string[], flags: DetectFlags, options: DetectOptions): Promise<Found> {
  const failed = new Map<number, string>();
  const files = paths.map((path, index) => {
    try {
      return readFileSync(path);
    } catch (e) {
      failed.set(index, (e as Error).message);
      return new Uint8Array(0); // sent anyway, so shards stay aligned with paths; its failure above is the one reported
    }
  });
  const outcome = await runQueuedJob<DetectShard, DetectShardResult, DetectedObject[]>({
    url, kind: 'detect', modelDir: flags.model, attempts: flags.attempts, unit: 'images',
    options: { ...options, shardImages: flags.shardImages }, content: files, quiet: flags.quiet,
    shards: planDetectShards(files, flags.shardImages, options), sizeOf: (s) => s.images.length,
    unpack: (r) => ({ outputs: r.detections, failures: r.failures }),
  });
  for (const line of outcome.failedShards) console.error(line);
  outcome.outputs.forEach((r, i) => {
    if (!r && !failed.has(i)) failed.set(i, outcome.failures.find((f) => f.index === i)?.message ?? 'its shard failed (see above)');
  });
  return {
    results: outcome.outputs, failed,
    image: (index) => decodeImage(files[index]!, paths[index]!),
    // Written: the job's shards can go, unless a failed shard is left for a rerun to retry.
    finished: async () => {
      if (!outcome.failedShards.length) await removeQueuedJob(outcome);
    },
  };
}
