/**
 * Writes test/fixtures/face/reference.json: what face-api's SSD MobileNet V1
 * face detector (TensorFlow.js wasm backend, one thread) finds on the sample
 * photos, for test/models/face-detector.test.ts to compare hibiki against.
 *
 *   (cd bench/peers && npm ci) && node tools/face_api_reference.mjs
 *
 * Both sides must see identical pixels: images are decoded here with pngjs /
 * jpeg-js (the decoders hibiki's src/io/image.ts uses) into an int32 RGB
 * tensor, and the fixture records a sha256 of those RGB bytes. Two inputs are
 * derived from the samples so that padding and resizing are exercised (both
 * samples are 512×512, which face-api feeds to the network unchanged):
 *  - astronaut-camera.jpg, written here if absent: astronaut.png and the left
 *    488 columns of camera.png side by side, top 460 rows (1000×460, JPEG
 *    quality 90 by jpeg-js): W > H, padded at the bottom, downscaled;
 *  - a crop of astronaut.png (301×400), made in memory by the test too:
 *    H > W, padded on the right, upscaled, and Math.round(301·512/400) = 385
 *    is not exact.
 * Also recorded: raw network outputs before NMS (the 50 best anchors and every
 * 101st anchor), and a few dequantized weights as tfjs decodes them.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const peers = createRequire(join(root, 'bench/peers/package.json'));
const tf = peers('@tensorflow/tfjs');
const wasm = peers('@tensorflow/tfjs-backend-wasm');
const faceapi = peers('@vladmandic/face-api/dist/face-api.node-wasm.js');
const { PNG } = peers('pngjs');
const jpeg = peers('jpeg-js');
const version = (name) => peers(`${name}/package.json`).version;

const IMAGES = join(root, 'samples/images');
const MODEL = join(dirname(peers.resolve('@vladmandic/face-api/package.json')), 'model');
const MANIFEST = 'ssd_mobilenetv1_model-weights_manifest.json';
const OUT = join(root, 'test/fixtures/face/reference.json');
const THRESHOLDS = [0.5, 0.2, 0.05];
const TOP = 50;
const STRIDE = 101;

/** RGB bytes of a PNG or JPEG file. */
function decode(file) {
  const bytes = readFileSync(file);
  if (file.endsWith('.png')) {
    const png = PNG.sync.read(bytes);
    return { width: png.width, height: png.height, rgb: dropAlpha(png.data, png.width * png.height) };
  }
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return { width: img.width, height: img.height, rgb: dropAlpha(img.data, img.width * img.height) };
}

function dropAlpha(rgba, pixels) {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) rgb.set(rgba.subarray(4 * i, 4 * i + 3), 3 * i);
  return rgb;
}

function crop(img, { x, y, width, height }) {
  const rgb = new Uint8Array(width * height * 3);
  for (let r = 0; r < height; r++) {
    const from = ((y + r) * img.width + x) * 3;
    rgb.set(img.rgb.subarray(from, from + width * 3), r * width * 3);
  }
  return { width, height, rgb };
}

function writeComposite(file) {
  const a = decode(join(IMAGES, 'astronaut.png'));
  const c = decode(join(IMAGES, 'camera.png'));
  const width = 1000;
  const height = 460;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = x < a.width ? a : c;
      const sx = x < a.width ? x : x - a.width;
      const s = (y * src.width + sx) * 3;
      rgba.set([src.rgb[s], src.rgb[s + 1], src.rgb[s + 2], 255], (y * width + x) * 4);
    }
  }
  writeFileSync(file, jpeg.encode({ data: rgba, width, height }, 90).data);
}

async function detect(tensor, minConfidence) {
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence, maxResults: 100 });
  const found = await faceapi.detectAllFaces(tensor, options);
  return found.map((d) => ({ box: [d.box.x, d.box.y, d.box.width, d.box.height], score: d.score }));
}

async function raw(tensor) {
  const input = await faceapi.toNetInput(tensor);
  const { boxes, scores } = faceapi.nets.ssdMobilenetv1.forwardInput(input);
  const b = await boxes[0].data();
  const s = await scores[0].data();
  tf.dispose([...boxes, ...scores]);
  const entry = (i) => ({ anchor: i, score: s[i], box: Array.from(b.subarray(4 * i, 4 * i + 4)) });
  const order = Array.from(s.keys()).sort((i, j) => s[j] - s[i] || i - j);
  return {
    count: s.length,
    top: order.slice(0, TOP).map(entry),
    sampled: Array.from({ length: Math.ceil(s.length / STRIDE) }, (_, k) => entry(k * STRIDE)),
  };
}

/** A few tensors as tfjs dequantizes them: leading values, scattered values and the f64 sum. */
async function weights() {
  const manifest = JSON.parse(readFileSync(join(MODEL, MANIFEST), 'utf8'));
  const group = manifest[0];
  const bin = readFileSync(join(MODEL, group.paths[0]));
  const map = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), group.weights);
  const names = [
    'MobilenetV1/Conv2d_0_pointwise/weights',
    'MobilenetV1/Conv2d_1_depthwise/BatchNorm/moving_variance',
    'MobilenetV1/Conv2d_13_pointwise/weights',
    'Prediction/BoxPredictor_0/ClassPredictor/biases',
    'Output/extra_dim',
    'Postprocessor/stack/1',
  ];
  const out = [];
  for (const name of names) {
    const t = map[name];
    const data = await t.data();
    const at = Array.from({ length: 8 }, (_, k) => Math.floor((k * data.length) / 8) + (k % 3));
    out.push({
      name,
      dtype: t.dtype,
      shape: t.shape,
      head: Array.from(data.subarray(0, 8)),
      at: at.filter((i) => i < data.length).map((i) => [i, data[i]]),
      sum: data.reduce((a, v) => a + v, 0),
    });
  }
  tf.dispose(Object.values(map));
  return out;
}

async function main() {
  wasm.setWasmPaths(join(dirname(peers.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  await tf.ready();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(MODEL);

  const composite = join(IMAGES, 'astronaut-camera.jpg');
  if (!existsSync(composite)) writeComposite(composite);
  const astronaut = decode(join(IMAGES, 'astronaut.png'));
  const cropBox = { x: 120, y: 40, width: 301, height: 400 };
  const inputs = [
    { name: 'astronaut', file: 'samples/images/astronaut.png', img: astronaut },
    { name: 'camera', file: 'samples/images/camera.png', img: decode(join(IMAGES, 'camera.png')) },
    { name: 'astronaut-camera', file: 'samples/images/astronaut-camera.jpg', img: decode(composite) },
    { name: 'astronaut-crop', file: 'samples/images/astronaut.png', crop: cropBox, img: crop(astronaut, cropBox) },
  ];

  const images = [];
  for (const { img, ...about } of inputs) {
    const tensor = tf.tensor3d(Int32Array.from(img.rgb), [img.height, img.width, 3], 'int32');
    const detections = {};
    for (const t of THRESHOLDS) detections[t] = await detect(tensor, t);
    const r = await raw(tensor);
    const t0 = performance.now();
    await detect(tensor, 0.5);
    const ms = performance.now() - t0;
    tensor.dispose();
    images.push({
      ...about,
      width: img.width,
      height: img.height,
      rgb_sha256: createHash('sha256').update(img.rgb).digest('hex'),
      detections,
      raw: r,
    });
    const summary = THRESHOLDS.map((t) => `${detections[t].length} @ ${t}`).join(', ');
    console.log(`${about.name} ${img.width}×${img.height}: ${summary} (${ms.toFixed(0)} ms)`);
  }

  const fixture = {
    format_version: 1,
    made_by: 'tools/face_api_reference.mjs',
    versions: {
      '@vladmandic/face-api': version('@vladmandic/face-api'),
      '@tensorflow/tfjs': version('@tensorflow/tfjs'),
      '@tensorflow/tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm'),
      pngjs: version('pngjs'),
      'jpeg-js': version('jpeg-js'),
      node: process.version,
    },
    backend: `${tf.getBackend()} (threads: ${wasm.getThreadsCount()})`,
    options: { max_results: 100, iou_threshold: 0.5, thresholds: THRESHOLDS },
    raw_note: `per image: the ${TOP} highest-scoring anchors and every ${STRIDE}th anchor; box = (ymin, xmin, ymax, xmax) in the padded 512×512 frame`,
    weights: await weights(),
    images,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(fixture)}\n`);
  // The manifest too (MIT, 28 KB): the tfjs reader's test rebuilds the shard from models/face-detector.
  copyFileSync(join(MODEL, MANIFEST), join(dirname(OUT), MANIFEST));
  console.log(`wrote ${OUT}`);
}

await main();
