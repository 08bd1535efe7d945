import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HibikiError } from '../../src/errors.js';
import { decodeImage } from '../../src/io/image.js';
import { Classifier, Detector, Segmenter, classMasks, topK } from '../../src/tasks/vision.js';

const SAMPLES = fileURLToPath(new URL('../../samples/images/', import.meta.url));
const bytes = (name: string) => readFileSync(`${SAMPLES}${name}`);
// What face-api 1.7.15 itself finds: tools/face_api_reference.mjs.
const reference = JSON.parse(readFileSync(new URL('../fixtures/face/reference.json', import.meta.url), 'utf8'));

describe('topK', () => {
  it('keeps the k most probable classes by softmax, ties by class index (hand-computed)', () => {
    // softmax([1, 3, 3, 0, 2]): e^(x − 3) = [e⁻², 1, 1, e⁻³, e⁻¹], sum 2.5530014
    const ranked = topK(Float32Array.from([1, 3, 3, 0, 2]), ['a', 'b', 'c', 'd'], 3);
    expect(ranked.map((r) => [r.label, r.index])).toEqual([['b', 1], ['c', 2], ['4', 4]]);
    expect(ranked[0]!.probability).toBeCloseTo(0.3916958, 6);
    expect(ranked[1]!.probability).toBeCloseTo(0.3916958, 6);
    expect(ranked[2]!.probability).toBeCloseTo(0.1440968, 6);
    // more than there are classes: all of them, the least probable last
    expect(topK(Float32Array.from([0, -800, 1]), [], 9).map((r) => r.index)).toEqual([2, 0, 1]);
  });
});

describe('the vision library API', () => {
  it('Detector takes bytes or pixels, fails a bad image alone, and finds face-api’s faces', async () => {
    const detector = await Detector.open();
    const { results, failures } = await detector.detect([bytes('astronaut.png'), Uint8Array.from([1, 2, 3]), decodeImage(bytes('camera.png'), 'camera')]);
    expect(failures.map((f) => [f.index, f.error.code])).toEqual([[1, 'E_BAD_INPUT']]);
    expect(failures[0]!.error.message).toMatch(/^image 2: /); // numbered from 1
    expect(results[1]).toBeUndefined();
    for (const [i, name] of [[0, 'astronaut'], [2, 'camera']] as const) {
      const want = reference.images.find((im: { name: string }) => im.name === name).detections['0.5'];
      expect(results[i]).toHaveLength(want.length);
      results[i]!.forEach((d, j) => {
        expect(d.label).toBe('face');
        d.bbox.forEach((v, k) => expect(Math.abs(v - want[j].box[k])).toBeLessThan(1));
      });
    }
    await detector.close();
  });

  it('every call takes an AbortSignal, and rejects with an AbortError whose cause is the reason', async () => {
    const detector = await Detector.open();
    const controller = new AbortController();
    const reason = new Error('the user left');
    controller.abort(reason);
    const calls = [detector.detect([bytes('astronaut.png')], { signal: controller.signal }), detector.detect(bytes('astronaut.png'), { signal: controller.signal })];
    for (const call of calls) {
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HibikiError);
      expect(error).toMatchObject({ name: 'AbortError', code: 'E_ABORTED' });
      expect((error as Error).cause).toBe(reason);
    }
  });

  it('one image in gives its result, an array the result per image; anything else is E_BAD_INPUT naming what was expected', async () => {
    const detector = await Detector.open();
    const classifier = await Classifier.open();
    const segmenter = await Segmenter.open();
    const astronaut = bytes('astronaut.png');
    const faces = await detector.detect(astronaut, { score: 0.5 });
    expect(faces.map((d) => d.bbox.map(Math.round))).toEqual([[181, 73, 83, 102]]);
    expect(await detector.detect(decodeImage(astronaut, 'astronaut'), { score: 0.5 })).toEqual(faces);
    expect((await detector.detect([astronaut], { score: 0.5 })).results).toEqual([faces]);

    const seven = bytes('digits/7.png');
    const classes = await classifier.classify(seven, { top: 2 });
    expect(classes.map((c) => c.label)[0]).toBe('7');
    expect(classes).toHaveLength(2);
    expect(await classifier.classify([seven], { top: 2 })).toEqual({ results: [classes], failures: [] });

    const shapes = bytes('shapes/shapes-1.png');
    const segmentation = await segmenter.segment(shapes);
    expect([segmentation.width, segmentation.height]).toEqual([64, 64]);
    expect((await segmenter.segment([shapes])).results).toEqual([segmentation]);

    // a single image that cannot be used rejects with its error; in an array it fails alone
    await expect(detector.detect(Uint8Array.from([1, 2, 3]))).rejects.toMatchObject({ code: 'E_BAD_INPUT', message: 'image: not a PNG or JPEG file (starts with 01 02 03)' });
    await expect(classifier.classify({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) })).rejects.toMatchObject({ code: 'E_BAD_INPUT', message: 'image: 5 bytes for 2×2×3' });
    const calls = {
      detect: (input: unknown) => detector.detect(input as Uint8Array),
      classify: (input: unknown) => classifier.classify(input as Uint8Array),
      segment: (input: unknown) => segmenter.segment(input as Uint8Array),
    };
    for (const [name, call] of Object.entries(calls)) {
      for (const [input, got] of [['photo.jpg', 'a string'], [42, 'a number'], [null, 'null'], [undefined, 'undefined']] as const) {
        const error = await call(input).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(HibikiError);
        expect(error).toMatchObject({
          code: 'E_BAD_INPUT',
          message: `${name} expects an image (decoded pixels {width, height, channels, data} or PNG/JPEG bytes) or an array of images, got ${got}`,
        });
      }
    }
    const mixed = await classifier.classify([seven, 'photo.jpg' as unknown as Uint8Array, { width: 1 } as unknown as Uint8Array], { top: 2 });
    expect(mixed.results).toEqual([classes, undefined, undefined]);
    expect(mixed.failures.map((f) => [f.index, f.error.code, f.error.message])).toEqual([
      [1, 'E_BAD_INPUT', 'image 2: expected an image (decoded pixels {width, height, channels, data} or PNG/JPEG bytes), got a string'],
      [2, 'E_BAD_INPUT', 'image 3: expected a decoded image {width, height, channels, data}'],
    ]);
  });

  it('Classifier on a pool of two gives the same probabilities as in this thread', async () => {
    const images = ['0.png', '5.png', '9.png'].map((d) => bytes(`digits/${d}`));
    const local = await Classifier.open();
    const pooled = await Classifier.open(undefined, { workers: 2 });
    const [a, b] = await Promise.all([local.classify(images, { top: 3 }), pooled.classify(images, { top: 3 })]);
    await pooled.close();
    expect(a.results.map((r) => r![0]!.label)).toEqual(['0', '5', '9']);
    expect(b.results).toEqual(a.results);
    await expect(local.classify(images, { top: 0 })).rejects.toMatchObject({ code: 'E_BAD_INPUT', message: 'top must be a positive integer, got 0' });
  });

  it('on a pool the workers decode the files: a file whose header is fine but whose data is cut fails alone, named, in a shard with others', async () => {
    const digits = ['0', '1', '2', '3', '4', '5', '6', '7'].map((d) => bytes(`digits/${d}.png`));
    const cut = digits[3]!.subarray(0, digits[3]!.length - 30); // the IHDR header intact, the pixel data short
    const images = [...digits.slice(0, 3), cut, ...digits.slice(4)];
    const local = await Classifier.open();
    const pooled = await Classifier.open(undefined, { workers: 2 });
    try {
      const want = await local.classify(images, { top: 2 });
      const got = await pooled.classify(images, { top: 2 });
      expect(want.failures.map((f) => [f.index, f.error.code, f.error.message])).toEqual([[3, 'E_BAD_INPUT', expect.stringMatching(/^image 4: truncated/)]]);
      expect(got.failures.map((f) => [f.index, f.error.code, f.error.message])).toEqual(want.failures.map((f) => [f.index, f.error.code, f.error.message]));
      expect(got.results).toEqual(want.results);
      expect(got.results.filter(Boolean)).toHaveLength(7);
    } finally {
      await pooled.close();
    }
  });

  it('Segmenter labels every pixel at the image’s own size; a model of another kind is refused', async () => {
    const segmenter = await Segmenter.open();
    const [seg] = (await segmenter.segment([bytes('shapes/shapes-1.png')])).results;
    expect([seg!.width, seg!.height, seg!.labels.length]).toEqual([64, 64, 64 * 64]);
    expect(new Set(seg!.labels).has(0)).toBe(true);
    await expect(Segmenter.open(fileURLToPath(new URL('../../models/face-detector', import.meta.url)))).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
  });

  it('classMasks gives each class as the COCO RLE pycocotools writes', () => {
    // labels [[0, 1, 1], [2, 1, 0]]; pycocotools 2.0.11 mask.encode of (labels == k) in Fortran order gives
    // counts b'231' (area 3, bbox [1, 0, 2, 2]) for class 1 and b'114' (area 1, bbox [0, 1, 1, 1]) for class 2
    const masks = classMasks({ width: 3, height: 2, labels: Uint8Array.from([0, 1, 1, 2, 1, 0]) }, ['background', 'one']);
    expect(masks).toEqual([
      { index: 1, label: 'one', area: 3, bbox: [1, 0, 2, 2], segmentation: { size: [2, 3], counts: '231' } },
      { index: 2, label: '2', area: 1, bbox: [0, 1, 1, 1], segmentation: { size: [2, 3], counts: '114' } },
    ]);
  });
});
