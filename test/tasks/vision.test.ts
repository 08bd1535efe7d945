import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/io/image.js';
import { Classifier, Detector, Segmenter, classMasks } from '../../src/tasks/vision.js';
import { errorOf } from '../helpers/errors.js';

const SAMPLES = fileURLToPath(new URL('../../samples/images/', import.meta.url));
const bytes = (name: string) => readFileSync(`${SAMPLES}${name}`);
// What face-api 1.7.15 itself finds: tools/face_api_reference.mjs.
const reference = JSON.parse(readFileSync(new URL('../fixtures/face/reference.json', import.meta.url), 'utf8'));

describe('the vision library API', () => {
  it('Detector takes bytes or pixels, fails a bad image alone, and finds face-api’s faces', async () => {
    const detector = await Detector.open();
    const { results, failures } = await detector.detect([bytes('astronaut.png'), Uint8Array.from([1, 2, 3]), decodeImage(bytes('camera.png'), 'camera')]);
    expect(failures.map((f) => [f.index, f.error.code])).toEqual([[1, 'E_BAD_INPUT']]);
    expect(failures[0]!.error.message).toMatch(/^image 1: /);
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

  it('every call takes an AbortSignal', async () => {
    const detector = await Detector.open();
    const controller = new AbortController();
    controller.abort();
    await expect(detector.detect([bytes('astronaut.png')], { signal: controller.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
  });

  it('Classifier on a pool of two gives the same probabilities as in this thread', async () => {
    const images = ['0.png', '5.png', '9.png'].map((d) => bytes(`digits/${d}`));
    const local = await Classifier.open();
    const pooled = await Classifier.open(undefined, { workers: 2 });
    const [a, b] = await Promise.all([local.classify(images, { top: 3 }), pooled.classify(images, { top: 3 })]);
    await pooled.close();
    expect(a.results.map((r) => r![0]!.label)).toEqual(['0', '5', '9']);
    expect(b.results).toEqual(a.results);
    expect(errorOf(() => local.classify(images, { top: 0 }))).toMatch(/^E_BAD_INPUT: top must be a positive integer/);
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
