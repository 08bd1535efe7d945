// The pictures of the README's vision section: each shipped vision model on the
// images that ship in samples/images, inputs beside what the model made of them.
//
//   npx tsx tools/vision-grid.ts [--out docs/images]
//
// Writes OUT/detect.png (the three photos with the face detector's boxes and
// scores), OUT/classify.png (the twenty digit pictures, each with the digits
// DenseNet's best class and its probability; red where it is not the digit the
// file is named for) and OUT/segment.png (each shapes picture above the U-Net's
// labels laid over it). Everything is computed when the script runs: no figure
// in the pictures is typed in.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as PImage from 'pureimage';
import { FONT, encodePng, loadFont } from '../src/io/canvas.js';
import { drawBoxes } from '../src/io/draw-boxes.js';
import { type Image, decodeImage } from '../src/io/image.js';
import { maskPngs } from '../src/cli/segment.js';
import { Classifier, Detector, Segmenter } from '../src/tasks/vision.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: fileURLToPath(new URL('../docs/images', import.meta.url)) } } });
const IMAGES = fileURLToPath(new URL('../samples/images/', import.meta.url));
const read = (name: string) => readFileSync(join(IMAGES, name));
mkdirSync(values.out, { recursive: true });
loadFont();

/** A pureimage bitmap of a decoded image (grey expanded). */
function bitmapOf(image: Image): PImage.Bitmap {
  const bitmap = PImage.make(image.width, image.height);
  for (let p = 0; p < image.width * image.height; p++) {
    const s = p * image.channels;
    const grey = image.channels < 3;
    bitmap.data.set([image.data[s]!, image.data[grey ? s : s + 1]!, image.data[grey ? s : s + 2]!, 255], p * 4);
  }
  return bitmap;
}

/** Tiles in rows of `columns`, each scaled to `tile` pixels high (width in proportion), a caption under each. */
function grid(tiles: Array<{ image: Image; caption: string; colour?: string }>, columns: number, tile: number, captionPx: number): Uint8Array {
  const gap = 8;
  const widths = tiles.map((t) => Math.round((t.image.width * tile) / t.image.height));
  const rows = Math.ceil(tiles.length / columns);
  const rowWidth = (r: number) => widths.slice(r * columns, (r + 1) * columns).reduce((a, w) => a + w + gap, gap);
  const width = Math.max(...Array.from({ length: rows }, (_, r) => rowWidth(r)));
  const cell = tile + captionPx + 2 * gap;
  const canvas = PImage.make(width, rows * cell + gap);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = `${captionPx}px '${FONT}'`;
  let x = gap;
  tiles.forEach((t, i) => {
    if (i % columns === 0) x = gap;
    const y = Math.floor(i / columns) * cell + gap;
    const src = bitmapOf(t.image);
    ctx.imageSmoothingEnabled = t.image.height > tile; // shrink photos smoothly; keep small pictures' pixels sharp
    ctx.drawImage(src, 0, 0, src.width, src.height, x, y, widths[i]!, tile);
    ctx.fillStyle = t.colour ?? '#000000';
    ctx.fillText(t.caption, x, y + tile + captionPx + 2);
    x += widths[i]! + gap;
  });
  return encodePng(canvas);
}

// Faces: the photos with face-api's detector's boxes drawn on them.
const photos = ['astronaut.png', 'camera.png', 'astronaut-camera.jpg'];
const detector = await Detector.open();
const detected = await detector.detect(photos.map(read), { score: 0.5 });
await detector.close();
const drawn = photos.map((name, i) => {
  const image = decodeImage(read(name), name);
  const faces = detected.results[i] ?? [];
  const boxes = drawBoxes(image, faces.map((f) => ({ bbox: f.bbox, score: f.score, label: f.label })));
  return { image: decodeImage(boxes, name), caption: `${name}: ${faces.length} face${faces.length === 1 ? '' : 's'}` };
});
writeFileSync(join(values.out, 'detect.png'), grid(drawn, 3, 200, 12));

// Digits: every digit picture with the classifier's best class and its probability.
const digitFiles = readdirSync(join(IMAGES, 'digits')).filter((f) => f.endsWith('.png')).sort((a, b) => a.length - b.length || a.localeCompare(b));
const classifier = await Classifier.open();
const classes = await classifier.classify(digitFiles.map((f) => read(`digits/${f}`)), { top: 1 });
await classifier.close();
const digitTiles = digitFiles.map((f, i) => {
  const best = classes.results[i]![0]!;
  const right = best.label === f[0];
  return { image: decodeImage(read(`digits/${f}`), f), caption: `${best.label} ${best.probability.toFixed(2)}`, colour: right ? '#000000' : '#d62728' };
});
writeFileSync(join(values.out, 'classify.png'), grid(digitTiles, 10, 64, 12));

// Shapes: each picture, then the labels over it (background, circle, square, triangle in their colours).
const shapeFiles = readdirSync(join(IMAGES, 'shapes')).filter((f) => /^shapes-\d+\.png$/.test(f)).sort();
const segmenter = await Segmenter.open();
const segments = await segmenter.segment(shapeFiles.map((f) => read(`shapes/${f}`)));
const labels = segmenter.labels;
await segmenter.close();
const shapeTiles = shapeFiles.flatMap((f, i) => {
  const image = decodeImage(read(`shapes/${f}`), f);
  const { overlay } = maskPngs(image, segments.results[i]!.labels);
  const present = [...new Set(segments.results[i]!.labels)].filter((k) => k !== 0).sort().map((k) => labels[k]);
  return [{ image, caption: f }, { image: decodeImage(overlay, f), caption: present.join(', ') }];
});
writeFileSync(join(values.out, 'segment.png'), grid(shapeTiles, 4, 128, 12));
console.log(`wrote ${['detect', 'classify', 'segment'].map((n) => join(values.out!, `${n}.png`)).join(', ')}`);
