import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const published = JSON.parse(readFileSync(new URL('../fixtures/detection/detection_published.json', import.meta.url), 'utf8'));

function hibiki(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

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

  it('names the file and record that is wrong', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify([{ image_id: 1146, category_id: 1, score: 'high', bbox: [0, 0, 1, 1] }]));
    const r = hibiki('evaluate', '--gt', join(dir, 'gt.json'), '--dt', join(dir, 'bad.json'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.json: result 0 needs a numeric "score", got "high"/);
    mkdirSync(join(dir, 'badvoc'));
    writeFileSync(join(dir, 'badvoc', 'img.txt'), 'person 0.5 10 10 5\n');
    const v = hibiki('evaluate', '--format', 'voc', '--gt', join(dir, 'gt'), '--dt', join(dir, 'badvoc'));
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/img\.txt:1: expected "class score x1 y1 x2 y2", got "person 0\.5 10 10 5"/);
    expect(hibiki('evaluate', '--gt', 'a', '--dt', 'b', '--format', 'yolo').code).toBe(2);
  });
});
