import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as PImage from 'pureimage';
import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hibiki, hibikiWith } from '../helpers/cli.js';
import { PALETTE, PLOT_HEIGHT, PLOT_WIDTH, plotX, plotY } from '../../src/io/pr-plot.js';
import { cocoEvaluate } from '../../src/metrics/coco.js';

const oracle = JSON.parse(readFileSync(new URL('../fixtures/detection/coco-oracle.json', import.meta.url), 'utf8'));
const published = JSON.parse(readFileSync(new URL('../fixtures/detection/detection_published.json', import.meta.url), 'utf8'));


describe('hibiki evaluate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-evaluate-'));
  const coco = published.coco_cases[0];
  writeFileSync(join(dir, 'gt.json'), JSON.stringify(coco.gt));
  writeFileSync(join(dir, 'dt.json'), JSON.stringify(coco.detections));

  it('prints pycocotools’ summary, and the 12 numbers by position and by name with --json', () => {
    const r = hibiki('evaluate', '--gt', join(dir, 'gt.json'), '--dt', join(dir, 'dt.json'));
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = ${coco.expected_stats.AP.toFixed(3)}`);
    expect(lines[6]).toBe(` Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = ${coco.expected_stats.AR1.toFixed(3)}`);
    const j = JSON.parse(hibiki('evaluate', '--gt', join(dir, 'gt.json'), '--dt', join(dir, 'dt.json'), '--json').stdout);
    expect(j.stats).toHaveLength(12);
    for (const [name, value] of Object.entries(coco.expected_stats as Record<string, number>)) expect(Math.abs(j[name] - value)).toBeLessThan(1e-12);
  });

  it('evaluates masks with --iou-type segm, and custom --max-dets in every line', () => {
    const segm = oracle.cases.find((c: { name: string }) => c.name === 'segm-crowd');
    writeFileSync(join(dir, 'segm-gt.json'), JSON.stringify(segm.gt));
    writeFileSync(join(dir, 'segm-dt.json'), JSON.stringify(segm.detections));
    const j = JSON.parse(hibiki('evaluate', '--gt', join(dir, 'segm-gt.json'), '--dt', join(dir, 'segm-dt.json'), '--iou-type', 'segm', '--json').stdout);
    expect(j.iouType).toBe('segm');
    j.stats.forEach((s: number, i: number) => expect(Math.abs(s - segm.expected_stats[i])).toBeLessThan(1e-12));
    const many = oracle.cases.find((c: { name: string; maxDets: number[] }) => c.name === 'bbox-many-detections' && c.maxDets[2] === 20);
    writeFileSync(join(dir, 'many-gt.json'), JSON.stringify(many.gt));
    writeFileSync(join(dir, 'many-dt.json'), JSON.stringify(many.detections));
    const r = hibiki('evaluate', '--gt', join(dir, 'many-gt.json'), '--dt', join(dir, 'many-dt.json'), '--max-dets', '1,5,20', '--per-class');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets= 20 ] = ${many.expected_stats[0].toFixed(3)}`);
    expect(lines[7]).toBe(` Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  5 ] = ${many.expected_stats[7].toFixed(3)}`);
    expect(lines[12]).toBe(`   1 class1  AP ${many.expected_per_category_AP['1'].toFixed(3)}`);
    expect(hibiki('evaluate', '--gt', 'a', '--dt', 'b', '--max-dets', '10,1,100').stderr).toMatch(/--max-dets must be three ascending positive integers like 1,10,100, got "10,1,100"/);
    expect(hibiki('evaluate', '--gt', 'a', '--dt', 'b', '--iou-type', 'keypoints').code).toBe(2);
  });

  it('draws the precision–recall curves to a PNG with --plot', async () => {
    const png = join(dir, 'pr.png');
    const r = hibiki('evaluate', '--gt', join(dir, 'gt.json'), '--dt', join(dir, 'dt.json'), '--plot', png);
    expect(r.code, r.stderr).toBe(0);
    const image = await PImage.decodePNGFromStream(createReadStream(png));
    expect([image.width, image.height]).toEqual([PLOT_WIDTH, PLOT_HEIGHT]);
    // every point of the IoU=0.50 curve is drawn in its colour (within a pixel: the line is anti-aliased)
    const curve = cocoEvaluate(coco.gt, coco.detections).curves[0]!;
    const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
    const want = rgb(PALETTE[0]!);
    for (let i = 0; i < curve.recall.length; i += 10) {
      const [x, y] = [Math.round(plotX(curve.recall[i]!)), Math.round(plotY(curve.precision[i]!))];
      const near = [-1, 0, 1].flatMap((dx) => [-1, 0, 1].map((dy) => {
        const p = image.getPixelRGBA(x + dx, y + dy);
        return Math.max(...[24, 16, 8].map((shift, c) => Math.abs(((p >>> shift) & 255) - want[c]!)));
      }));
      expect(Math.min(...near), `recall ${curve.recall[i]}`).toBeLessThan(48);
    }
    expect(hibiki('evaluate', '--gt', join(dir, 'gt.json'), '--dt', join(dir, 'dt.json'), '--plot', join(dir, 'pr.svg')).code).toBe(2);
  });

  it('scores VOC text directories: the published sample’s AP', () => {
    const voc = published.voc_cases[0];
    for (const [sub, records, scored] of [['gt', voc.groundtruths, false], ['dt', voc.detections, true]] as const) {
      mkdirSync(join(dir, sub));
      const byImage = new Map<string, string[]>();
      for (const b of records as Array<{ image: string; class: string; score?: number; bbox: number[] }>) {
        const [x, y, w, h] = b.bbox;
        const line = [b.class, ...(scored ? [b.score] : []), x, y, x! + w!, y! + h!].join(' ');
        byImage.set(b.image, [...(byImage.get(b.image) ?? []), line]);
      }
      for (const [image, lines] of byImage) writeFileSync(join(dir, sub, `${image}.txt`), `${lines.join('\n')}\n`);
    }
    const r = JSON.parse(hibiki('evaluate', '--format', 'voc', '--gt', join(dir, 'gt'), '--dt', join(dir, 'dt'), '--iou', '0.3', '--json').stdout);
    expect(Math.abs(r.mAP - voc.expected_continuous_iou['0.3'].person.ap_all_points)).toBeLessThan(1e-12);
    expect(Math.abs(r.mAP11 - voc.expected_continuous_iou['0.3'].person.ap_11_point)).toBeLessThan(1e-12);
  });

  it('reads --gt - or --dt - from stdin (the same summary as the files); both, or - with --format voc, are refused with one line', () => {
    const [gt, dt] = [join(dir, 'gt.json'), join(dir, 'dt.json')];
    const files = hibiki('evaluate', '--gt', gt, '--dt', dt);
    expect(files.code, files.stderr).toBe(0);
    for (const [args, input] of [[['--gt', gt, '--dt', '-'], dt], [['--gt', '-', '--dt', dt], gt]] as const) {
      const r = hibikiWith({ input: readFileSync(input) }, 'evaluate', ...args);
      expect([r.code, r.stderr, r.stdout], args.join(' ')).toEqual([0, '', files.stdout]);
    }
    const broken = hibikiWith({ input: '{' }, 'evaluate', '--gt', '-', '--dt', dt);
    expect([broken.code, broken.stdout]).toEqual([1, '']);
    expect(broken.stderr).toMatch(/^error: --gt: stdin: not valid JSON \(.+\)\n$/);
    const refused: Array<[string[], string]> = [
      [['--gt', '-', '--dt', '-'], 'stdin (-) can be read once: give --gt or --dt as a file'],
      [['--format', 'voc', '--gt', dir, '--dt', '-'], '--format voc reads --dt from a directory of .txt files: it cannot be - (stdin)'],
    ];
    for (const [args, line] of refused) {
      const r = hibikiWith({ input: readFileSync(gt) }, 'evaluate', ...args);
      expect([r.code, r.stderr, r.stdout], args.join(' ')).toEqual([2, `error: ${line}\n`, '']);
    }
  });

  it('names the file and record that is wrong', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify([{ image_id: 1146, category_id: 1, score: 'high', bbox: [0, 0, 1, 1] }]));
    const r = hibiki('evaluate', '--gt', join(dir, 'gt.json'), '--dt', join(dir, 'bad.json'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.json: result 0: score must be a finite number, got "high"/);
    mkdirSync(join(dir, 'badvoc'));
    writeFileSync(join(dir, 'badvoc', 'img.txt'), 'person 0.5 10 10 5\n');
    const v = hibiki('evaluate', '--format', 'voc', '--gt', join(dir, 'gt'), '--dt', join(dir, 'badvoc'));
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/img\.txt:1: expected "class score x1 y1 x2 y2", got "person 0\.5 10 10 5"/);
    expect(hibiki('evaluate', '--gt', 'a', '--dt', 'b', '--format', 'yolo').code).toBe(2);
  });
});
