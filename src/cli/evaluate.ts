import { type Command, InvalidArgumentError } from 'commander';
import { badInput } from '../errors.js';
import { readVocDir } from '../io/detections.js';
import { writePrPlot } from '../io/pr-plot.js';
import { type CocoDetection, type CocoGroundTruth, type CocoResult, cocoEvaluate, statNames } from '../metrics/coco.js';
import { type VocDetection, type VocResult, vocEvaluate } from '../metrics/voc.js';
import { usage } from './exit.js';
import { STDIO, inputName, readInput } from './files.js';
import { checkOutputFile } from './paths.js';
import { jsonOption, parseChoice, parseNumber } from './options.js';

const FORMATS = ['coco', 'voc'] as const;
const IOU_TYPES = ['bbox', 'segm'] as const;

interface EvaluateFlags {
  gt: string;
  dt: string;
  format: (typeof FORMATS)[number];
  iouType: (typeof IOU_TYPES)[number];
  iou: number;
  maxDets: number[];
  perClass?: boolean;
  json?: boolean;
  plot?: string;
}

/** pycocotools' summarize() lines, in its layout, with the maxDets the evaluation used. */
export function formatCocoSummary(stats: readonly number[], maxDets: readonly number[] = [1, 10, 100]): string {
  const [m1, m2, m3] = maxDets as [number, number, number];
  const rows: Array<[boolean, string, string, number]> = [
    [true, '0.50:0.95', 'all', m3], [true, '0.50', 'all', m3], [true, '0.75', 'all', m3],
    [true, '0.50:0.95', 'small', m3], [true, '0.50:0.95', 'medium', m3], [true, '0.50:0.95', 'large', m3],
    [false, '0.50:0.95', 'all', m1], [false, '0.50:0.95', 'all', m2], [false, '0.50:0.95', 'all', m3],
    [false, '0.50:0.95', 'small', m3], [false, '0.50:0.95', 'medium', m3], [false, '0.50:0.95', 'large', m3],
  ];
  return rows.map(([ap, iou, area, maxDet], i) =>
    ` ${(ap ? 'Average Precision' : 'Average Recall').padEnd(18)} ${ap ? '(AP)' : '(AR)'} @[ IoU=${iou.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(maxDet).padStart(3)} ] = ${stats[i]!.toFixed(3)}`,
  ).join('\n');
}

function parseMaxDets(value: string): number[] {
  const m = value.split(',').map((s) => Number(s.trim()));
  if (m.length !== 3 || !m.every((x) => Number.isInteger(x) && x > 0) || m[0]! > m[1]! || m[1]! > m[2]!) {
    throw new InvalidArgumentError(`--max-dets must be three ascending positive integers like 1,10,100, got "${value}"`);
  }
  return m;
}

/** --gt or --dt as JSON, from its file or from stdin ('-'); cocoEvaluate checks what it holds. */
function readJson(flag: string, path: string): unknown {
  const text = readInput(flag, path).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badInput(`${flag}: ${inputName(path)}: not valid JSON (${(e as Error).message})`);
  }
}

function evaluateCoco(flags: EvaluateFlags): void {
  const gt = readJson('--gt', flags.gt) as CocoGroundTruth;
  const dt = readJson('--dt', flags.dt) as CocoDetection[];
  const r: CocoResult = cocoEvaluate(gt, dt, {
    iouType: flags.iouType, maxDets: flags.maxDets, gtFile: inputName(flags.gt), dtFile: inputName(flags.dt),
  });
  const names = new Map(gt.categories.map((c) => [c.id, c.name ?? String(c.id)]));
  if (flags.plot) {
    writePrPlot(flags.plot, r.curves, `COCO ${r.iouType}: precision–recall (area all, maxDets ${r.maxDets[2]})`);
  }
  if (flags.json) {
    const named = Object.fromEntries(statNames(r.maxDets).map((n, i) => [n, r.stats[i]]));
    const perClass = flags.perClass ? { perCategoryAP: Object.fromEntries(r.perCategoryAP) } : {};
    console.log(JSON.stringify({ iouType: r.iouType, maxDets: r.maxDets, stats: r.stats, ...named, ...perClass }, null, 2));
    return;
  }
  console.log(formatCocoSummary(r.stats, r.maxDets));
  if (flags.perClass) {
    const width = Math.max(...[...names.values()].map((n) => n.length));
    for (const [cat, ap] of r.perCategoryAP) console.log(`${String(cat).padStart(4)} ${names.get(cat)!.padEnd(width)}  AP ${ap < 0 ? '  — (no objects)' : ap.toFixed(3)}`);
  }
}

function evaluateVoc(flags: EvaluateFlags): void {
  const r: VocResult = vocEvaluate(readVocDir(flags.gt, false), readVocDir(flags.dt, true) as VocDetection[], { iouThreshold: flags.iou });
  if (flags.plot) {
    const curves = r.classes.map((c) => ({ label: c.class, ap: c.apAllPoints, recall: c.recall, precision: c.precision }));
    writePrPlot(flags.plot, curves, `VOC: precision–recall at IoU ${flags.iou} (mAP ${r.mapAllPoints.toFixed(3)})`);
  }
  if (flags.json) {
    console.log(JSON.stringify({ iouThreshold: flags.iou, mAP: r.mapAllPoints, mAP11: r.map11Point,
      ...(flags.perClass ? { classes: r.classes.map((c) => ({ class: c.class, npos: c.npos, ap: c.apAllPoints, ap11: c.ap11Point })) } : {}) }, null, 2));
    return;
  }
  if (flags.perClass) for (const c of r.classes) console.log(`${c.class.padEnd(16)} AP ${c.apAllPoints.toFixed(4)}  AP(11-point) ${c.ap11Point.toFixed(4)}  (${c.npos} objects)`);
  console.log(`mAP@${flags.iou} ${r.mapAllPoints.toFixed(4)} (all-point), ${r.map11Point.toFixed(4)} (11-point)`);
}

/** `hibiki evaluate`: COCO or VOC detection metrics of a results file against ground truth. */
export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('score detections against ground truth: COCO (as pycocotools) or VOC AP')
    .requiredOption('--gt <path>', "ground truth: COCO JSON ('-' = stdin), or a VOC directory of per-image .txt files")
    .requiredOption('--dt <path>', "detections: COCO results JSON ('-' = stdin), or a VOC directory of per-image .txt files")
    .option('--format <format>', 'of --gt and --dt: coco or voc', parseChoice('--format', FORMATS), 'coco')
    .option('--iou-type <type>', 'COCO: bbox or segm (masks: polygons or RLE)', parseChoice('--iou-type', IOU_TYPES), 'bbox')
    .option('--max-dets <list>', 'COCO: three detection limits per image', parseMaxDets, [1, 10, 100])
    .option('--iou <t>', 'VOC: IoU threshold', parseNumber('--iou', 0, 1), 0.5)
    .option('--per-class', 'also print AP per category')
    .option('--plot <file.png>', 'draw the precision–recall curves to a PNG')
    .addOption(jsonOption())
    .action((flags: EvaluateFlags) => {
      if (flags.gt === STDIO && flags.dt === STDIO) usage('stdin (-) can be read once: give --gt or --dt as a file');
      const fromStdin = flags.gt === STDIO ? '--gt' : flags.dt === STDIO ? '--dt' : undefined;
      if (flags.format === 'voc' && fromStdin) usage(`--format voc reads ${fromStdin} from a directory of .txt files: it cannot be - (stdin)`);
      if (flags.plot !== undefined) {
        checkOutputFile('--plot', flags.plot);
        if (!flags.plot.toLowerCase().endsWith('.png')) usage(`--plot writes a PNG; give a file name ending in .png, got "${flags.plot}"`);
      }
      if (flags.format === 'coco') evaluateCoco(flags);
      else evaluateVoc(flags);
    });
}
