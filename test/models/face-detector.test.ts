import { multipleGridAnchors } from '../../src/models/ssd.js';
import { describe, expect, it } from 'vitest';
import {
  type FaceDetectorItem, decode, faceApiNms, faceDetectorArchitecture, loadFaceDetector, networkInput, toImagePixels,
  unpackDetections,
} from '../../src/models/face-detector.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { errorOf } from '../helpers/errors.js';
import { clipToImage, faceReference, referenceImage, repoPath, sha256 } from '../helpers/face-fixture.js';

const rt = Runtime.create();
const detector = loadFaceDetector(rt, repoPath('models/face-detector'));
const reference = faceReference();

/** Parity rules of issue 7: boxes within 1 px, scores within 1e-3; raw outputs (0…1 frame) within 1e-4. */
const PX = 1;
const SCORE = 1e-3;
const RAW = 1e-4;

describe('face detector vs face-api 1.7.15 (tfjs wasm), test/fixtures/face/reference.json', () => {
  describe.each(reference.images.map((r) => [r.name, r] as const))('%s', (_, ref) => {
    const image = referenceImage(ref);

    it('sees the pixels face-api saw', () => {
      expect([image.width, image.height, sha256(image.data)]).toEqual([ref.width, ref.height, ref.rgb_sha256]);
    });

    it('matches the raw network outputs before NMS (best 50 and every 101st anchor)', () => {
      const raw = detector.raw(image);
      expect(raw.scores).toHaveLength(ref.raw.count);
      for (const e of [...ref.raw.top, ...ref.raw.sampled]) {
        expect(Math.abs(raw.scores[e.anchor]! - e.score), `score of anchor ${e.anchor}`).toBeLessThanOrEqual(RAW);
        e.box.forEach((v, k) => expect(Math.abs(raw.boxes[4 * e.anchor + k]! - v), `box ${e.anchor}[${k}]`).toBeLessThanOrEqual(RAW));
      }
    });

    it.each(reference.options.thresholds)('finds the same faces with minConfidence %s (face-api\'s boxes clipped to the image)', (minConfidence) => {
      const want = ref.detections[String(minConfidence)]!.map((d) => ({ ...d, box: clipToImage(d.box, ref.width, ref.height) }));
      const got = detector.detect(image, { minConfidence, maxResults: reference.options.max_results });
      expect(got).toHaveLength(want.length);
      got.forEach((d, i) => {
        expect(Math.abs(d.score - want[i]!.score), `score ${i}`).toBeLessThanOrEqual(SCORE);
        d.box.forEach((v, k) => expect(Math.abs(v - want[i]!.box[k]!), `box ${i}[${k}]`).toBeLessThanOrEqual(PX));
      });
    });
  });

  it('runs as a batch model over attached weights, options per item, bad items named', () => {
    const model = faceDetectorArchitecture.attach(rt, detector.layout);
    const [astronaut, , composite] = reference.images;
    const first = referenceImage(astronaut!);
    const items: FaceDetectorItem[] = [first, { ...referenceImage(composite!), minConfidence: 0.05, maxResults: 3 }];
    let units = 0;
    const out = model.run(items, (n = 0) => void (units += n));
    expect(units).toBe(2);
    expect(unpackDetections(out[0]!).map((d) => d.score)).toEqual([Math.fround(detector.detect(first)[0]!.score)]);
    const capped = unpackDetections(out[1]!);
    expect(capped).toHaveLength(3);
    capped.forEach((d, i) => expect(Math.abs(d.score - composite!.detections['0.05']![i]!.score)).toBeLessThanOrEqual(SCORE));
    const image = first;
    expect(errorOf(() => model.check({ ...image, minConfidence: 1 }, 'item 3'))).toBe('E_BAD_INPUT: item 3: minConfidence must be a number from 0 to below 1, got 1');
    expect(errorOf(() => model.check({ ...image, maxResults: 0 }, 'item 4'))).toMatch(/^E_BAD_INPUT: item 4: maxResults must be a positive integer/);
    expect(errorOf(() => model.check({ ...image, data: image.data.subarray(1) }, 'item 5'))).toMatch(/^E_BAD_INPUT: item 5: 786431 bytes for 512×512×3/);
  });
});

describe('face detector pieces, by hand', () => {
  it('stores the anchors of TF\'s multiple_grid_anchor_generator (§5), to float32 rounding', () => {
    const want = multipleGridAnchors({
      featureMaps: [32, 16, 8, 4, 2, 1], minScale: 0.2, maxScale: 0.95, aspectRatios: [1, 2, 0.5, 3, 1 / 3], reduceBoxesInLowestLayer: true,
    });
    const got = rt.heap.f32(detector.layout.anchors, want.length);
    expect(want).toHaveLength(5118 * 4);
    let worst = 0;
    want.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i]! - v))));
    expect(worst).toBeLessThan(1e-4);
  });

  it('decodes an encoding against its anchor with scale factors (10, 10, 5, 5) and a sigmoid score', () => {
    // anchor (0.25, 0.25, 0.75, 0.75): centre 0.5, size 0.5; ty = 1 moves the centre by 0.1 · 0.5, th = 5 ln 2 doubles the height
    const { boxes, scores } = decode(new Float32Array([1, 0, 5 * Math.LN2, 0]), new Float32Array([3, 0, -7]),
      new Float32Array([0.25, 0.25, 0.75, 0.75]), [10, 10, 5, 5]);
    [0.05, 0.25, 1.05, 0.75].forEach((v, k) => expect(boxes[k]).toBeCloseTo(v, 6));
    expect(scores[0]).toBe(0.5); // sigmoid of the face logit; background (3) and the third class (−7) are ignored
  });

  it('keeps face-api\'s NMS rules: strict score threshold, IoU > 0.5 suppresses, corners re-ordered, ties by index', () => {
    const boxes = [
      0, 0, 1, 2, // 0: area 2
      0, 0, 1, 1, // 1: inside 0, IoU exactly 0.5 — kept
      1, 2, 0, 0, // 2: box 0 with swapped corners — IoU 1 with 0
      5, 5, 6, 6, // 3: apart
      5, 5, 6, 6, // 4: same as 3, same score: the later index loses
    ];
    expect(faceApiNms(boxes, [0.9, 0.8, 0.85, 0.6, 0.6], 10, 0.5, 0.5)).toEqual([0, 1, 3]);
    expect(faceApiNms(boxes, [0.9, 0.8, 0.85, 0.6, 0.6], 10, 0.5, 0.6)).toEqual([0, 1]); // score = threshold is out
    expect(faceApiNms(boxes, [0.9, 0.8, 0.85, 0.6, 0.6], 2, 0.5, 0.5)).toEqual([0, 1]);
  });

  it('maps boxes to the original pixels with face-api\'s rounded reshaped size (600×512, H×W: rw = 437)', () => {
    const box = [0.1, 0.2, 0.5, 0.6, -0.1, 0.8, 0.3, 1.2, 0.1, 0.9, 0.3, 1.0];
    const xScale = (512 * 512) / 437; // 599.87, not 600
    const [x, y, w, h] = toImagePixels(box, 0, 512, 600, 512);
    [0.2 * xScale, 60, 0.4 * xScale, 240].forEach((v, k) => expect([x, y, w, h][k]).toBeCloseTo(v, 9));
    // clipped to the padded square [0, 1] as face-api does, then to the image (its right edge at 512, not 599.87)
    const [x2, y2, w2, h2] = toImagePixels(box, 1, 512, 600, 512);
    [0.8 * xScale, 0, 512 - 0.8 * xScale, 180].forEach((v, k) => expect([x2, y2, w2, h2][k]).toBeCloseTo(v, 9));
    // wholly in the padding right of the image: nothing left
    [512, 60, 0, 120].forEach((v, k) => expect(toImagePixels(box, 2, 512, 600, 512)[k]).toBeCloseTo(v, 9));
  });

  it('pads at the bottom-right with −1 and skips the resize when the long side is 512', () => {
    const image = { width: 2, height: 512, channels: 3, data: new Uint8Array(2 * 512 * 3).fill(255) };
    const x = networkInput(image, 512);
    expect([x[0], x[5], x[6], x[512 * 3 * 511 + 5], x[512 * 3 * 511 + 6], x.at(-1)]).toEqual([1, 1, -1, 1, -1, -1]);
  });

  it('writes the same input into a tensor it is given, resized or not, over whatever was there', () => {
    const grey = { width: 40, height: 30, channels: 1, data: Uint8Array.from({ length: 1200 }, (_, i) => (i * 37) % 256) };
    for (const image of [grey, { width: 512, height: 300, channels: 1, data: new Uint8Array(512 * 300).fill(7) }]) {
      const into = new Float32Array(512 * 512 * 3).fill(NaN);
      expect(networkInput(image, 512, into)).toBe(into);
      expect(into).toEqual(networkInput(image, 512));
    }
  });
});
