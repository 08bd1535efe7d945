// The pictures the digits model is judged on (issue 25), built the same way
// for tools/digits-quality.ts and test/models/digits-densenet.test.ts. None
// of them was trained on or chosen by:
//  - heldout:  scikit-learn's test split (360 digits) as 8×8 pictures, dark ink on white;
//  - margin:   the same in a 16×16 white picture, at a different place each;
//  - shifted:  the same in a 12×12 white picture, 2 px off centre diagonally (each direction in turn);
//  - inverted: white ink on black, 8×8;
//  - colour:   ink and paper of two random colours (at least 100 apart in some channel), 8×8;
//  - typed:    digits 0–9 typed in the 25 test faces (no clone of a training font), 44 px in 64 × 64
//              (tools/digits_data.py --sheet wrote test/fixtures/digits-densenet/typed-test-fonts.png).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import type { Image } from '../src/io/image.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { Rng } from '../src/runtime/rng.js';

/** One set: pictures and the digit each shows. */
export interface DigitSet {
  name: 'heldout' | 'margin' | 'shifted' | 'inverted' | 'colour' | 'typed';
  images: Image[];
  labels: number[];
}

const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/digits-densenet/${name}`, import.meta.url));

/** The test split's pixels (the data set's 0–16, ink high) and labels. */
export function testSplit(): { pixels: Uint8Array; labels: Uint8Array } {
  const split = readSafetensors(fixture('test-split.safetensors'));
  return { pixels: split.get('pixels').data as Uint8Array, labels: split.get('labels').data as Uint8Array };
}

/** A grey picture of width × height, paper white, with the 8×8 digit `v` (0–16) drawn at (top, left). */
function onPaper(v: Uint8Array, width: number, height: number, top: number, left: number): Image {
  const data = new Uint8Array(width * height).fill(255);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) data[(top + y) * width + left + x] = Math.round(255 - (v[y * 8 + x]! * 255) / 16);
  return { width, height, channels: 1, data };
}

export function digitSets(): DigitSet[] {
  const { pixels, labels } = testSplit();
  const n = labels.length;
  const digits = Array.from({ length: n }, (_, i) => pixels.subarray(i * 64, i * 64 + 64));
  const each = (make: (v: Uint8Array, i: number) => Image) => digits.map(make);
  const colour = (v: Uint8Array, i: number): Image => {
    const rng = new Rng(1000 + i);
    const pick = () => [0, 1, 2].map(() => Math.floor(rng.next() * 256));
    let [paper, ink] = [pick(), pick()];
    while (Math.max(...[0, 1, 2].map((c) => Math.abs(paper[c]! - ink[c]!))) < 100) [paper, ink] = [pick(), pick()];
    const data = new Uint8Array(64 * 3);
    for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.round(paper[c]! + (v[p]! / 16) * (ink[c]! - paper[c]!));
    return { width: 8, height: 8, channels: 3, data };
  };
  const sheet = PNG.sync.read(readFileSync(fixture('typed-test-fonts.png')));
  const typed: Image[] = [];
  const typedLabels: number[] = [];
  for (let row = 0; row < sheet.height / 64; row++) {
    for (let d = 0; d < 10; d++) {
      const data = new Uint8Array(64 * 64);
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) data[y * 64 + x] = sheet.data[((row * 64 + y) * sheet.width + d * 64 + x) * 4]!;
      typed.push({ width: 64, height: 64, channels: 1, data });
      typedLabels.push(d);
    }
  }
  const same = Array.from(labels);
  const diagonal = [[0, 0], [0, 4], [4, 0], [4, 4]] as const;
  return [
    { name: 'heldout', images: each((v) => onPaper(v, 8, 8, 0, 0)), labels: same },
    { name: 'margin', images: each((v, i) => onPaper(v, 16, 16, (i * 3) % 9, (i * 5) % 9)), labels: same },
    { name: 'shifted', images: each((v, i) => onPaper(v, 12, 12, diagonal[i % 4]![0], diagonal[i % 4]![1])), labels: same },
    {
      name: 'inverted',
      images: each((v) => ({ width: 8, height: 8, channels: 1, data: Uint8Array.from(v, (x) => Math.round((x * 255) / 16)) })),
      labels: same,
    },
    { name: 'colour', images: each(colour), labels: same },
    { name: 'typed', images: typed, labels: typedLabels },
  ];
}
