/**
 * Converts face-api's SSD MobileNet V1 face detector (a TensorFlow.js weights
 * manifest with uint8-quantized weights) into the hibiki model directory
 * models/face-detector/ (config.json + model.safetensors):
 *
 *   (cd bench/peers && npm ci) && npx tsx tools/convert_face_detector.ts [manifest.json] [out-dir]
 *
 * Every float weight keeps the manifest's name and TensorFlow layout (conv
 * HWIO, depthwise [KH, KW, C, 1]). Quantized ones stay U8 — 1 byte a weight,
 * as shipped — and their scale and min go, as the manifest's exact doubles,
 * into the header's `__metadata__.quantization` (JSON, with the dtype they
 * dequantize to): an F32 scale and min
 * would round them and change ~87 % of the dequantized weights by an ulp,
 * where this way the model dequantizes exactly as tfjs does. The anchors
 * (`Output/extra_dim`) are float32 in the manifest and stay F32. The uint8
 * int32 constants of the original TF graph (reshape sizes, slice bounds; face-api
 * does not read them) are kept too, so the file holds every byte of the shard:
 * test/io/tfjs-manifest.test.ts rebuilds the shard from it and checks its
 * sha256. The conversion is deterministic: running it again writes the same
 * bytes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTfjsManifest } from '../src/io/tfjs-manifest.js';
import { type TensorInput, writeSafetensors } from '../src/io/safetensors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGE = join(root, 'bench/peers/node_modules/@vladmandic/face-api');
const manifestPath = process.argv[2] ?? join(PACKAGE, 'model/ssd_mobilenetv1_model-weights_manifest.json');
const outDir = process.argv[3] ?? join(root, 'models/face-detector');

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const pkg = JSON.parse(readFileSync(join(dirname(manifestPath), '../package.json'), 'utf8')) as Record<string, string>;
const source = readTfjsManifest(manifestPath);
const tensors: TensorInput[] = [];
const quantization: Record<string, { dtype: string; scale: number; min: number }> = {};
for (const w of source.weights.values()) {
  const q = w.quantization;
  if (q?.dtype === 'uint8') {
    tensors.push({ name: w.name, shape: w.shape, dtype: 'U8', data: q.raw as Uint8Array });
    quantization[w.name] = { dtype: w.dtype, scale: q.scale!, min: q.min! };
  } else if (!q) {
    tensors.push({ name: w.name, shape: w.shape, data: w.data });
  } else {
    throw new Error(`${w.name}: ${q.dtype} quantization is not expected in this model`);
  }
}

const anchors = source.weights.get('Output/extra_dim');
if (!anchors || anchors.shape.join() !== '1,5118,4') throw new Error('Output/extra_dim [1, 5118, 4] (the anchors) is missing');

const config = {
  architecture: 'ssd-mobilenet-v1-face',
  format_version: 1,
  input_size: 512,
  anchors: anchors.shape[1],
  classes: ['background', 'face', 'unused'],
  score_threshold: 0.5,
  iou_threshold: 0.5,
  max_results: 100,
  box_scale_factors: [10, 10, 5, 5],
  batch_norm_epsilon: 0.001,
  provenance: {
    package: pkg.name,
    version: pkg.version,
    license: pkg.license,
    upstream: 'face-api.js (justadudewhohacks/face-api.js-models, MIT); the weights were trained on WIDER FACE by yeephycho/tensorflow-face-detection (Apache-2.0), per face-api.js\'s README',
    files: source.shards.concat(manifestPath).map((file) => ({
      name: `model/${basename(file)}`,
      bytes: readFileSync(file).length,
      sha256: sha256(file),
    })),
    converted_by: 'npx tsx tools/convert_face_detector.ts',
  },
};

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
writeSafetensors(join(outDir, 'model.safetensors'), tensors, {
  format_version: '1',
  source: `${pkg.name}@${pkg.version} ${basename(manifestPath)}`,
  quantization: JSON.stringify(quantization),
});
const bytes = readFileSync(join(outDir, 'model.safetensors')).length;
console.log(`${relative(root, outDir)}: ${tensors.length} tensors (${Object.keys(quantization).length} U8), ${bytes} bytes`);
