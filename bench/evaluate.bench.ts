// npm run bench:evaluate — COCO evaluation speed against pycocotools, in one run:
//  - boxes: 5,000 images, 80 categories, ~35k objects (1 % crowds), ~75k detections (the size of COCO val2017);
//  - masks: 500 images, 20 categories, polygon objects and compressed-RLE detections.
// Seeded synthetic data written to a temp directory; both sides evaluate the same files, the JSON already
// parsed, and their 12 numbers are checked equal (1e-9) before any time is reported. pycocotools runs when
// `$PYTHON` (default python3) can import it, e.g. PYTHON=/path/to/venv/bin/python. Best of 3 rounds.
// Writes bench/results/evaluate.json.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';
import { type CocoDetection, type CocoGroundTruth, cocoEvaluate } from '../src/metrics/coco.js';
import { rleFromPolygon, rleMerge, rleToString } from '../src/metrics/mask-rle.js';
import { Rng } from '../src/runtime/rng.js';
import { bestMs } from './rounds.js';

const ROUNDS = 3;
const rng = new Rng(20261128);
const round2 = (v: number) => Math.round(v * 100) / 100;

/** A star-shaped polygon around (cx, cy): concave, fractional coordinates. */
function polygon(cx: number, cy: number, radius: number): number[] {
  const n = rng.int(4, 9);
  const angles = Array.from({ length: n }, () => rng.next() * 2 * Math.PI).sort((a, b) => a - b);
  return angles.flatMap((a) => { const r = radius * (0.4 + 0.6 * rng.next()); return [round2(cx + r * Math.cos(a)), round2(cy + r * Math.sin(a))]; });
}

function syntheticCase(images: number, categories: number, masks: boolean): { gt: CocoGroundTruth; dt: CocoDetection[] } {
  const gt: CocoGroundTruth = { images: [], annotations: [], categories: Array.from({ length: categories }, (_, i) => ({ id: i + 1 })) };
  const dt: CocoDetection[] = [];
  for (let id = 1; id <= images; id++) {
    const [height, width] = [480, 640];
    gt.images.push({ id, height, width });
    for (let o = rng.int(0, 14); o > 0; o--) {
      const category = rng.int(1, categories);
      const [x, y] = [rng.next() * 500, rng.next() * 400];
      const [w, h] = [Math.exp(1.5 + 4 * rng.next()), Math.exp(1.5 + 4 * rng.next())];
      const jitter = () => [x + (rng.next() - 0.5) * 0.2 * w, y + (rng.next() - 0.5) * 0.2 * h, w * (0.8 + 0.4 * rng.next()), h * (0.8 + 0.4 * rng.next())];
      const base = { id: gt.annotations.length + 1, image_id: id, category_id: category, iscrowd: rng.next() < 0.01 ? 1 : 0 };
      if (masks) {
        const poly = polygon(x + w / 2, y + h / 2, Math.min(w, h) / 2);
        const rle = rleMerge([rleFromPolygon(poly, height, width)]);
        let area = 0;
        for (let i = 1; i < rle.counts.length; i += 2) area += rle.counts[i]!;
        gt.annotations.push({ ...base, segmentation: [poly], area });
      } else {
        gt.annotations.push({ ...base, bbox: [x, y, w, h], area: w * h * 0.7 });
      }
      for (let d = rng.int(0, 3); d > 0; d--) {
        const [jx, jy, jw, jh] = jitter();
        const detection = { image_id: id, category_id: category, score: rng.next() };
        dt.push(masks
          ? { ...detection, segmentation: { size: [height, width], counts: rleToString(rleFromPolygon(polygon(jx! + jw! / 2, jy! + jh! / 2, Math.min(jw!, jh!) / 2), height, width)) } }
          : { ...detection, bbox: [jx!, jy!, jw!, jh!] });
      }
    }
    for (let f = rng.int(0, 9); f > 0; f--) {
      const [x, y] = [rng.next() * 500, rng.next() * 400];
      const detection = { image_id: id, category_id: rng.int(1, categories), score: rng.next() };
      dt.push(masks
        ? { ...detection, segmentation: { size: [height, width], counts: rleToString(rleFromPolygon([x, y, x + 30, y, x + 30, y + 30, x, y + 30], height, width)) } }
        : { ...detection, bbox: [x, y, 30, 30] });
    }
  }
  return { gt, dt };
}

const cases = [
  { name: 'bbox 5000 images', iouType: 'bbox' as const, ...syntheticCase(5000, 80, false) },
  { name: 'segm 500 images', iouType: 'segm' as const, ...syntheticCase(500, 20, true) },
];
const dir = mkdtempSync(join(tmpdir(), 'hibiki-evaluate-bench-'));
mkdirSync(dir, { recursive: true });
const job = { rounds: ROUNDS, cases: cases.map((c, i) => {
  writeFileSync(join(dir, `gt${i}.json`), JSON.stringify(c.gt));
  writeFileSync(join(dir, `dt${i}.json`), JSON.stringify(c.dt));
  return { name: c.name, iouType: c.iouType, gt: join(dir, `gt${i}.json`), dt: join(dir, `dt${i}.json`) };
}) };
writeFileSync(join(dir, 'job.json'), JSON.stringify(job));

const python = process.env.PYTHON ?? 'python3';
const py = spawnSync(python, [fileURLToPath(new URL('../tools/coco_bench.py', import.meta.url)), join(dir, 'job.json')], { encoding: 'utf8' });
rmSync(dir, { recursive: true });
const peer = py.status === 0 ? JSON.parse(py.stdout) as { pycocotools: string; results: { name: string; ms: number; stats: number[] }[] } : undefined;

console.log(formatSystemLine(systemInfo(1)));
if (!peer) console.log(`pycocotools: not measured (${(py.stderr ?? String(py.error)).trim().split('\n').pop()}); set PYTHON to a python that has it`);
const rows = [];
for (const c of cases) {
  let stats: number[] = [];
  const ms = await bestMs(ROUNDS, () => { stats = cocoEvaluate(c.gt, c.dt, { iouType: c.iouType }).stats; });
  const theirs = peer?.results.find((r) => r.name === c.name);
  if (theirs) {
    const worst = Math.max(...stats.map((s, i) => Math.abs(s - theirs.stats[i]!)));
    if (!(worst < 1e-9)) throw new Error(`${c.name}: hibiki and pycocotools disagree (worst stat difference ${worst})`);
  }
  rows.push({ case: c.name, objects: c.gt.annotations.length, detections: c.dt.length, hibikiMs: ms, pycocotoolsMs: theirs?.ms, speedup: theirs ? theirs.ms / ms : undefined });
  console.log(`${c.name.padEnd(18)} ${String(c.gt.annotations.length).padStart(6)} objects ${String(c.dt.length).padStart(6)} detections   hibiki ${ms.toFixed(0).padStart(6)} ms` +
    (theirs ? `   pycocotools ${peer!.pycocotools} ${theirs.ms.toFixed(0).padStart(6)} ms   hibiki ${(theirs.ms / ms).toFixed(2)}× faster` : ''));
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/evaluate.json', import.meta.url), `${JSON.stringify({ system: systemInfo(1), pycocotools: peer?.pycocotools, rows }, null, 2)}\n`);
