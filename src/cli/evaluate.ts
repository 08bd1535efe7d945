import type { Command } from 'commander';
import { readCocoGroundTruth, readCocoResults, readVocDir } from '../io/detections.js';
import { COCO_STAT_NAMES, cocoEvaluate } from '../metrics/coco.js';
import { type VocDetection, vocEvaluate } from '../metrics/voc.js';
import { parseNumber } from './options.js';

interface EvaluateFlags {
  gt: string;
  dt: string;
  format: string;
  iou: number;
  perClass?: boolean;
  json?: boolean;
}

/** pycocotools' summarize() lines, in its layout. */
export function formatCocoSummary(stats: readonly number[]): string {
  const rows: Array<[boolean, string, string, number]> = [
    [true, '0.50:0.95', 'all', 100], [true, '0.50', 'all', 100], [true, '0.75', 'all', 100],
    [true, '0.50:0.95', 'small', 100], [true, '0.50:0.95', 'medium', 100], [true, '0.50:0.95', 'large', 100],
    [false, '0.50:0.95', 'all', 1], [false, '0.50:0.95', 'all', 10], [false, '0.50:0.95', 'all', 100],
    [false, '0.50:0.95', 'small', 100], [false, '0.50:0.95', 'medium', 100], [false, '0.50:0.95', 'large', 100],
  ];
  return rows.map(([ap, iou, area, maxDets], i) =>
    ` ${(ap ? 'Average Precision' : 'Average Recall').padEnd(18)} ${ap ? '(AP)' : '(AR)'} @[ IoU=${iou.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${stats[i]!.toFixed(3)}`,
  ).join('\n');
}

/** `hibiki evaluate`: COCO or VOC detection metrics of a results file against ground truth. */
export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('score detections against ground truth: COCO (pycocotools) or VOC AP')
    .requiredOption('--gt <path>', 'ground truth: COCO JSON, or a VOC directory of per-image .txt files')
    .requiredOption('--dt <path>', 'detections: COCO results JSON, or a VOC directory of per-image .txt files')
    .option('--format <format>', 'coco or voc', 'coco')
    .option('--iou <t>', 'IoU threshold for VOC AP', parseNumber('--iou', 0, 1), 0.5)
    .option('--per-class', 'also print AP per category')
    .option('--json', 'print JSON')
    .action((flags: EvaluateFlags) => {
      if (flags.format !== 'coco' && flags.format !== 'voc') program.error(`error: --format must be coco or voc, got "${flags.format}"`, { exitCode: 2 });
      if (flags.format === 'coco') {
        const r = cocoEvaluate(readCocoGroundTruth(flags.gt), readCocoResults(flags.dt), flags.gt);
        if (flags.json) {
          const named = Object.fromEntries(COCO_STAT_NAMES.map((n, i) => [n, r.stats[i]]));
          console.log(JSON.stringify({ stats: r.stats, ...named, ...(flags.perClass ? { perCategoryAP: Object.fromEntries(r.perCategoryAP) } : {}) }, null, 2));
          return;
        }
        console.log(formatCocoSummary(r.stats));
        if (flags.perClass) for (const [cat, ap] of r.perCategoryAP) console.log(`category ${cat}: AP ${ap.toFixed(3)}`);
        return;
      }
      const r = vocEvaluate(readVocDir(flags.gt, false), readVocDir(flags.dt, true) as VocDetection[], { iouThreshold: flags.iou });
      if (flags.json) {
        console.log(JSON.stringify({ iouThreshold: flags.iou, mAP: r.mapAllPoints, mAP11: r.map11Point,
          ...(flags.perClass ? { classes: r.classes.map((c) => ({ class: c.class, npos: c.npos, ap: c.apAllPoints, ap11: c.ap11Point })) } : {}) }, null, 2));
        return;
      }
      if (flags.perClass) for (const c of r.classes) console.log(`${c.class.padEnd(16)} AP ${c.apAllPoints.toFixed(4)}  AP(11-point) ${c.ap11Point.toFixed(4)}  (${c.npos} objects)`);
      console.log(`mAP@${flags.iou} ${r.mapAllPoints.toFixed(4)} (all-point), ${r.map11Point.toFixed(4)} (11-point)`);
    });
}
