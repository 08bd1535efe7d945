// npm run bench:vision — the vision models' speed, in one run:
//  - the face detector (models/face-detector) on the sample photos: latency on one thread, and images/s
//    on a pool of 1 and of 2 workers; against face-api 1.7.15 itself (the same weights) on TensorFlow.js's
//    wasm backend (one thread) and its pure-JS cpu backend, when bench/peers is installed
//    (cd bench/peers && npm ci). The detections are checked equal (boxes within 1 px) before any time
//    is reported;
//  - MobileNet v2 and DenseNet-121 at 224×224, one image, one thread (torchvision's architectures on the
//    parity fixtures' weights).
// Each figure is the best of a few rounds. Writes bench/results/vision.json.
import { fileURLToPath } from 'node:url';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';
import { decodeImage } from '../src/io/image.js';
import { denseNetForward, loadDenseNet, parseDenseNetConfig } from '../src/models/densenet.js';
import { type Detection, loadFaceDetector } from '../src/models/face-detector.js';
import { loadMobileNetV2, mobileNetV2Forward, parseMobileNetV2Config } from '../src/models/mobilenet.js';
import { Pool } from '../src/pool/pool.js';
import { Runtime } from '../src/runtime/runtime.js';
import { torchvisionFixture } from '../test/helpers/torchvision.js';
import { bestMs } from './rounds.js';

const ROUNDS = 5;
const MODEL = fileURLToPath(new URL('../models/face-detector', import.meta.url));
const PHOTOS = ['astronaut.png', 'camera.png', 'astronaut-camera.jpg'];
const images = PHOTOS.map((name) => {
  const path = fileURLToPath(new URL(`../samples/images/${name}`, import.meta.url));
  return { name, image: decodeImage(readFileSync(path), path) };
});

console.log(formatSystemLine(systemInfo(2)));
const rt = Runtime.create();
const detector = loadFaceDetector(rt, MODEL);
const ours = images.map(({ image }) => detector.detect(image));
const hibikiMs = await bestMs(ROUNDS, () => { for (const { image } of images) detector.detect(image); }) / images.length;
console.log(`face detector, hibiki, one thread: ${hibikiMs.toFixed(1)} ms per image (${PHOTOS.join(', ')})`);

const pooled: Record<number, number> = {};
for (const workers of [1, 2]) {
  const pool = await Pool.open(MODEL, { workers });
  const batch = Array.from({ length: 12 }, (_, i) => images[i % images.length]!.image);
  await pool.run(batch.slice(0, workers)); // warm the workers
  const ms = await bestMs(3, () => pool.run(batch));
  await pool.close();
  pooled[workers] = batch.length / (ms / 1000);
  console.log(`face detector, hibiki, pool of ${workers}: ${pooled[workers]!.toFixed(2)} images/s`);
}

/** face-api on a TensorFlow.js backend, its detections checked against ours first; undefined without bench/peers. */
async function faceApi(backend: 'wasm' | 'cpu', rounds: number, photos: number) {
  const peersJson = fileURLToPath(new URL('./peers/package.json', import.meta.url));
  if (!existsSync(new URL('./peers/node_modules/@vladmandic/face-api', import.meta.url))) return undefined;
  const peers = createRequire(peersJson);
  const tf = peers('@tensorflow/tfjs');
  const faceapi = peers('@vladmandic/face-api/dist/face-api.node-wasm.js');
  if (backend === 'wasm') {
    peers('@tensorflow/tfjs-backend-wasm').setWasmPaths(`${fileURLToPath(new URL('./peers/node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url))}`);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  await tf.setBackend(backend);
  await tf.ready();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(fileURLToPath(new URL('./peers/node_modules/@vladmandic/face-api/model', import.meta.url)));
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 });
  const tensors = images.slice(0, photos).map(({ image }) => tf.tensor3d(image.data, [image.height, image.width, 3], 'int32'));
  const detect = async (t: unknown) => (await faceapi.detectAllFaces(t, options)) as Array<{ box: { x: number; y: number; width: number; height: number }; score: number }>;
  for (const [i, t] of tensors.entries()) {
    const theirs = await detect(t);
    const mine: Detection[] = ours[i]!;
    const same = theirs.length === mine.length && theirs.every((d, j) =>
      [d.box.x, d.box.y, d.box.width, d.box.height].every((v, k) => Math.abs(v - mine[j]!.box[k]!) <= 1) && Math.abs(d.score - mine[j]!.score) <= 1e-3);
    if (!same) throw new Error(`face-api (${backend}) and hibiki disagree on ${images[i]!.name}`);
  }
  const ms = await bestMs(rounds, async () => { for (const t of tensors) await detect(t); }) / tensors.length;
  tf.dispose(tensors);
  return ms;
}

const wasmMs = await faceApi('wasm', ROUNDS, images.length);
if (wasmMs === undefined) console.log('face-api: not measured (cd bench/peers && npm ci)');
else console.log(`face detector, face-api 1.7.15 on tfjs wasm, one thread: ${wasmMs.toFixed(1)} ms per image → hibiki ${(wasmMs / hibikiMs).toFixed(2)}× faster`);
const cpuMs = wasmMs === undefined ? undefined : await faceApi('cpu', 1, 1);
if (cpuMs !== undefined) console.log(`face detector, face-api on tfjs cpu (pure JS): ${cpuMs.toFixed(0)} ms per image (astronaut.png) → hibiki ${(cpuMs / hibikiMs).toFixed(1)}× faster`);

const classifiers: Record<string, number> = {};
{
  const f = torchvisionFixture('mobilenet_v2');
  const w = loadMobileNetV2(rt, f.weights, parseMobileNetV2Config('mobilenet_v2', { width_mult: 1, num_classes: 1000 }));
  classifiers.mobilenetV2 = await bestMs(ROUNDS, () => rt.scope(() => mobileNetV2Forward(rt, w, rt.tensor([1, 224, 224, 3], f.input))));
  const g = torchvisionFixture('densenet121');
  const config = parseDenseNetConfig('densenet121', { growth_rate: 32, block_config: [6, 12, 24, 16], num_init_features: 64, bn_size: 4, num_classes: 1000 });
  const d = loadDenseNet(rt, g.weights, config);
  classifiers.densenet121 = await bestMs(ROUNDS, () => rt.scope(() => denseNetForward(rt, d, rt.tensor([1, 224, 224, 3], g.input))));
  console.log(`MobileNet v2 224×224, one thread: ${classifiers.mobilenetV2!.toFixed(1)} ms; DenseNet-121: ${classifiers.densenet121!.toFixed(1)} ms`);
}

const out = new URL('./results/vision.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, `${JSON.stringify({
  version: 1, date: new Date().toISOString(), system: systemInfo(2),
  faceDetector: {
    images: PHOTOS, hibikiMs, faceApiWasmMs: wasmMs ?? null, faceApiCpuMs: cpuMs ?? null,
    overFaceApiWasm: wasmMs ? wasmMs / hibikiMs : null, pool: { oneWorker: pooled[1], twoWorkers: pooled[2], scaling: pooled[2]! / pooled[1]! },
  },
  classifiersMs: classifiers,
}, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(out)}`);
