// One engine on one case of `npm run bench:peers`, in a process of its own so
// that its peak resident memory is its own:
//
//   node --import tsx bench/peers/run.ts ENGINE THREADS CASE
//
// ENGINE: hibiki | ort-web | ort-node | tfjs-wasm. CASE: a directory of
// bench/peers/models/ (tools/export_peers.py). Checks the engine's output
// against PyTorch's (io.safetensors) before timing, then prints one JSON line:
// {engine, threads, case, ms (the best of four tinybench medians), perSecond, [tokens, tokensPerSecond], maxError, rssMiB}.
// With THREADS 2, hibiki runs 8 inputs on two workers and reports the time per
// input (throughput): two worker threads each running this file's one-thread
// case (4 inputs each), or for the face detector its Pool (the ×1 run is the
// same Detector in process). The peers run one input on two intra-op threads.
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { readSafetensors } from '../../src/io/safetensors.js';
import { readModelConfig, readModelDir } from '../../src/io/model-dir.js';
import { decodeImage } from '../../src/io/image.js';
import { denseNetForward, loadDenseNet, parseDenseNetConfig } from '../../src/models/densenet.js';
import { loadMobileNetV2, mobileNetV2Forward, parseMobileNetV2Config } from '../../src/models/mobilenet.js';
import type { WaveNet } from '../../src/models/wavenet.js';
import { loadModel } from '../../src/models/index.js';
import { loadTransformer } from '../../src/models/transformer.js';
import { Detector } from '../../src/tasks/vision.js';
import { loadMultiHeadAttention, multiHeadSelfAttention } from '../../src/nn/attention.js';
import { gemm, packMatrix } from '../../src/runtime/ops/gemm.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { Rng } from '../../src/runtime/rng.js';
import { sampleCategorical } from '../../src/decode/sample.js';
import { type AsyncStepDecoder, type GeneratedSequence, hfBeamSteps, hfGreedySteps, padSequences, runSearchAsync } from '../../src/decode/hf-beam.js';
import { parseGenerationConfig, withRequest } from '../../src/decode/hf-config.js';
import { loadMarian } from '../../src/models/marian.js';
import { tfjsDenseNet121, tfjsMobileNetV2, tfjsSelfAttention, tfjsWaveNet } from './tfjs-models.js';

const [engine, threadsText, caseName] = isMainThread ? process.argv.slice(2) : (workerData as string[]);
const threads = Number(threadsText);
// hibiki-int8: hibiki with the Linear weights int8 (quantize: 'int8'), for the Marian cases.
const INT8 = engine === 'hibiki-int8';
// The face detector is the shipped model (models/face-detector, face-api's SSD MobileNet V1) on
// samples/images/astronaut.png, checked against the detections face-api itself made
// (test/fixtures/face/reference.json); every other case is an export of tools/export_peers.py.
const FACE_CASE = caseName === 'face_detector';
const dir = FACE_CASE ? fileURLToPath(new URL('../../models/face-detector/', import.meta.url)) : fileURLToPath(new URL(`./models/${caseName}/`, import.meta.url));
if (!FACE_CASE && !existsSync(`${dir}io.safetensors`)) throw new Error(`${dir}: no io.safetensors; run tools/export_peers.py`);
const io = FACE_CASE ? undefined! : readSafetensors(`${dir}io.safetensors`);
const meta = (FACE_CASE ? { kind: 'face' } : JSON.parse(io.metadata.case!)) as {
  kind: 'sgemm' | 'classifier' | 'wavenet' | 'wavenet_step' | 'mha' | 'transformer' | 'transformer_greedy' | 'marian' | 'face';
  n?: number; model?: string; heads?: number; samples?: number; condition?: number; seed?: number; dilations?: number[]; max_length?: number;
  num_beams?: number; max_new_tokens?: number;
};
const floats = (name: string) => io.get(name).data as Float32Array;

const FACE_IMAGE = fileURLToPath(new URL('../../samples/images/astronaut.png', import.meta.url));
/** Detections as [score, x/512, y/512, w/512, h/512] each, best first: in the image's units, so 1e-3 is half a pixel. */
function faceVector(found: Array<{ score: number; bbox: number[] }>): Float32Array {
  return Float32Array.from(found.flatMap((d) => [d.score, ...d.bbox.map((v) => v / 512)]));
}
function faceExpected(): Float32Array {
  const reference = JSON.parse(readFileSync(new URL('../../test/fixtures/face/reference.json', import.meta.url), 'utf8')) as {
    images: Array<{ name: string; detections: Record<string, Array<{ box: number[]; score: number }>> }>;
  };
  const astronaut = reference.images.find((i) => i.name === 'astronaut')!;
  return faceVector(astronaut.detections['0.5']!.map((d) => ({ score: d.score, bbox: d.box })));
}

/** A prepared run: `call` computes once; `output` is what to check against `expected`. */
interface Prepared {
  call: () => unknown | Promise<unknown>;
  output: () => Float32Array | Promise<Float32Array>;
  expected: Float32Array;
  /** Inputs one call processes (8 for hibiki's pool runs). */
  items: number;
  /** Channel order of `output` against `expected`, when they differ (logits [T, classes] vs [classes, T]). */
  transposed?: [number, number];
  close?: () => Promise<void>;
  /** Tokens one call generates (the translation cases), for tokens per second. */
  tokens?: number;
}

/** An int64 [B, S] tensor of io.safetensors as B rows of numbers. */
function tokenRows(name: string): number[][] {
  const t = io.get(name);
  const ids = Array.from(t.data as BigInt64Array, Number);
  return Array.from({ length: t.shape[0]! }, (_, b) => ids.slice(b * t.shape[1]!, (b + 1) * t.shape[1]!));
}

/** Greedy outputs as io's "greedy" holds them: [B, max_length] tokens, −1 after each sentence's end. */
function greedyVector(sentences: number[][]): Float32Array {
  const T = meta.max_length!;
  const out = new Float32Array(sentences.length * T).fill(-1);
  sentences.forEach((tokens, b) => out.set(tokens, b * T));
  return out;
}

// The Marian cases (tools/export_peers.py marian): the model directory models/marian/ is both hibiki's
// and, with its three ONNX files, onnxruntime's; each case's io.safetensors holds right-padded sources,
// their attention mask and the PyTorch twin's sequences, padded with the pad id as transformers pads them.
const marianDir = meta.kind === 'marian' ? fileURLToPath(new URL(`./models/${meta.model}/`, import.meta.url)) : '';
const marianRequest = { numBeams: meta.num_beams, maxNewTokens: meta.max_new_tokens };

/** The case's sources without their padding, each ending with eos. */
function marianSources(): number[][] {
  const mask = tokenRows('attention_mask');
  return tokenRows('input_ids').map((row, b) => row.filter((_, i) => mask[b]![i] === 1));
}

/** The best sequence of each sentence, padded with `pad` to the longest, flat. */
function sequencesVector(found: GeneratedSequence[][], pad: number): Float32Array {
  return Float32Array.from(padSequences(found.map(([best]) => best!.ids), pad).flat());
}

/** Tokens generated per call: every sequence's tokens after the decoder start (the pad id, never generated). */
function marianTokens(pad: number): number {
  const t = io.get('sequences');
  const L = t.shape[1]!;
  return (t.data as Float32Array).filter((id, i) => i % L !== 0 && id !== pad).length;
}

/** NCHW → NHWC for one image. */
function channelsLast(x: Float32Array, C: number, H: number, W: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) y[i * C + c] = x[c * H * W + i]!;
  return y;
}

/**
 * hibiki's two-worker throughput: two worker threads, each running this file's one-thread case on its
 * own copy of the model; one call runs 4 inputs on each. (The Pool would add its preprocessing of byte
 * images, which the one-thread case, fed floats as the peers are, does not do.)
 */
async function hibikiTwoWorkers(): Promise<Prepared> {
  // worker-thread.cjs requires this file (which has no top-level await for that reason).
  const workers = Array.from({ length: 2 }, () => new Worker(fileURLToPath(new URL('./worker-thread.cjs', import.meta.url)), {
    workerData: ['hibiki', '1', caseName, fileURLToPath(new URL(import.meta.url))], execArgv: ['--import', 'tsx'],
  }));
  const ask = (w: Worker, message: string) => new Promise<unknown>((resolve, reject) => {
    const onError = (e: Error) => { w.off('message', onMessage); reject(e); };
    const onMessage = (answer: unknown) => { w.off('error', onError); resolve(answer); };
    w.once('message', onMessage).once('error', onError).postMessage(message);
  });
  await Promise.all(workers.map((w) => ask(w, 'ready')));
  return {
    call: () => Promise.all(workers.map((w) => ask(w, 'run4'))),
    output: async () => (await ask(workers[1]!, 'output')) as Float32Array,
    expected: expectedOutput(),
    items: 8,
    transposed: logitsLayout(),
    close: async () => { await Promise.all(workers.map((w) => w.terminate())); },
  };
}

/** WaveNet's logits come as [T, classes] from the engines written channels-last, PyTorch's as [classes, T]. */
function logitsLayout(): [number, number] | undefined {
  return meta.kind === 'wavenet' ? [io.get('x').shape[1]!, io.get('logits').shape[1]!] : undefined;
}

/** PyTorch's output for the case, from io.safetensors. */
function expectedOutput(): Float32Array {
  return floats({ sgemm: 'c', mha: 'y', wavenet_step: 'classes', transformer_greedy: 'greedy' }[meta.kind as string] ?? 'logits');
}

async function hibiki(): Promise<Prepared> {
  if (threads > 1 && isMainThread && meta.kind !== 'face') return hibikiTwoWorkers();
  const rt = Runtime.create();
  if (meta.kind === 'face') {
    // The library's Detector, preprocessing included, as face-api's detectAllFaces includes its own.
    const image = decodeImage(readFileSync(FACE_IMAGE), FACE_IMAGE);
    const detector = await Detector.open(dir, { workers: threads > 1 ? threads : 0 });
    const batch = Array.from({ length: threads > 1 ? 8 : 1 }, () => image);
    const run = async () => faceVector((await detector.detect(batch, { score: 0.5 })).results.at(-1)!);
    return { call: run, output: run, expected: faceExpected(), items: batch.length, close: () => detector.close() };
  }
  if (meta.kind === 'sgemm') {
    const n = meta.n!;
    const b = packMatrix(rt, rt.tensor([n, n], floats('b')));
    const a = rt.tensor([n, n], floats('a'));
    const c = rt.tensor([n, n]);
    const call = () => gemm(rt, a, b, { out: c });
    return { call, output: () => (call(), c.toArray()), expected: floats('c'), items: 1 };
  }
  if (meta.kind === 'classifier') {
    const config = readModelConfig(dir);
    const weights = readSafetensors(`${dir}model.safetensors`);
    const x = channelsLast(floats('x'), 3, 224, 224);
    const forward = config.architecture === 'mobilenet_v2'
      ? (() => { const w = loadMobileNetV2(rt, weights, parseMobileNetV2Config(dir, config)); return () => rt.scope(() => mobileNetV2Forward(rt, w, rt.tensor([1, 224, 224, 3], x)).toArray()); })()
      : (() => { const w = loadDenseNet(rt, weights, parseDenseNetConfig(dir, config)); return () => rt.scope(() => denseNetForward(rt, w, rt.tensor([1, 224, 224, 3], x)).toArray()); })();
    return { call: forward, output: forward, expected: floats('logits'), items: 1 };
  }
  if (meta.kind === 'mha') {
    const layer = loadMultiHeadAttention(rt, readSafetensors(`${dir}model.safetensors`), 'mha', meta.heads!);
    const x = rt.tensor([1, 128, 256], floats('x'));
    const forward = () => rt.scope(() => multiHeadSelfAttention(rt, layer, x).toArray());
    return { call: forward, output: forward, expected: floats('y'), items: 1 };
  }
  if (meta.kind === 'transformer_greedy') {
    const model = loadTransformer(rt, readModelDir(dir));
    const src = tokenRows('src');
    const translate = () => greedyVector(model.search(src, { maxLength: meta.max_length! }).map(([best]) => best!.tokens));
    return { call: translate, output: translate, expected: floats('greedy'), items: 1 };
  }
  if (meta.kind === 'marian') {
    const model = loadMarian(rt, INT8 ? { ...readModelDir(marianDir), quantize: 'int8' } : marianDir);
    const pad = model.generation.padTokenId;
    const sources = marianSources();
    const translate = () => model.generate(sources, marianRequest);
    // int8 may decode other tokens than PyTorch's float32 (maxError counts them) and other lengths: its own count.
    const tokens = INT8 ? translate().reduce((n, [best]) => n + best!.ids.length - 1, 0) : marianTokens(pad);
    return { call: translate, output: () => sequencesVector(translate(), pad), expected: floats('sequences'), items: 1, tokens };
  }
  if (meta.kind === 'wavenet_step') {
    // One stream, sampled at temperature 1 with the seed PyTorch sampled with: the same classes or a failed check.
    const model = loadModel(rt, readModelDir(dir)) as WaveNet;
    const request = { samples: meta.samples!, condition: meta.condition!, temperature: 1, seed: meta.seed! };
    const generate = () => Float32Array.from(model.generateClasses([request])[0]!);
    return { call: generate, output: generate, expected: floats('classes'), items: 1 };
  }
  if (meta.kind === 'transformer') {
    const model = loadTransformer(rt, readModelDir(dir));
    const [src, tgt] = [tokenRows('src'), tokenRows('tgt')];
    // The logits come one array per sentence; only the check joins them.
    const output = () => {
      const logits = model.forward(src, tgt);
      const all = new Float32Array(logits.reduce((n, l) => n + l.length, 0));
      let at = 0;
      for (const l of logits) { all.set(l, at); at += l.length; }
      return all;
    };
    return { call: () => model.forward(src, tgt), output, expected: floats('logits'), items: 1 };
  }
  const model = loadModel(rt, readModelDir(dir)) as WaveNet;
  const x = Int32Array.from(io.get('x').data as BigInt64Array, Number);
  const cond = Number((io.get('cond').data as BigInt64Array)[0]);
  const T = x.length;
  // One output array for every call, as a caller scoring many sequences would keep (WaveNet.logits' `out`).
  const out = new Float32Array(T * model.config.classes);
  const forward = () => model.logits(x, cond, undefined, out);
  return { call: forward, output: forward, expected: floats('logits'), items: 1, transposed: logitsLayout() };
}

/** onnxruntime-web (WASM, SIMD) or onnxruntime-node (native) on model.onnx. */
async function onnxruntime(kind: 'web' | 'node'): Promise<Prepared> {
  const peers = createRequire(fileURLToPath(new URL('./package.json', import.meta.url)));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const ort: any = kind === 'web' ? await import(peers.resolve('onnxruntime-web')) : peers('onnxruntime-node');
  const options: Record<string, unknown> = { graphOptimizationLevel: 'all' };
  if (kind === 'web') {
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.simd = true;
    ort.env.wasm.wasmPaths = `${fileURLToPath(new URL('./node_modules/onnxruntime-web/dist/', import.meta.url))}`;
    options.executionProviders = ['wasm'];
  } else {
    options.intraOpNumThreads = threads;
    options.interOpNumThreads = 1;
    options.executionProviders = ['cpu'];
  }
  if (meta.kind === 'marian') return onnxMarian(ort, options);
  const session = await ort.InferenceSession.create(readFileSync(`${dir}model.onnx`), options);
  if (meta.kind === 'wavenet_step') return onnxWaveNetStep(ort, session);
  if (meta.kind === 'transformer_greedy') return onnxGreedy(ort, session, await ort.InferenceSession.create(readFileSync(`${dir}step.onnx`), options));
  const feeds: Record<string, unknown> = {};
  for (const name of session.inputNames as string[]) {
    const t = io.get(name);
    feeds[name] = new ort.Tensor(t.dtype === 'I64' ? 'int64' : 'float32', t.data, t.shape);
  }
  const outputName = (session.outputNames as string[])[0]!;
  const run = async () => (await session.run(feeds))[outputName].data as Float32Array;
  return { call: run, output: run, expected: expectedOutput(), items: 1, close: () => session.release() };
}

/**
 * Incremental WaveNet on onnxruntime as its users write it: model.onnx is one sample (tools/export_peers.py
 * WaveNetStep); this loop keeps each layer's queue of past inputs and samples by hibiki's rule and PRNG.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function onnxWaveNetStep(ort: any, session: any): Prepared {
  const dilations = meta.dilations!;
  const L = dilations.length;
  const R = io.get('past').shape[2]!;
  const generate = async () => {
    const queues = dilations.map((d) => new Float32Array(d * R)); // slot t mod d: the layer's input at t
    const past = new Float32Array(L * R);
    const rng = new Rng(meta.seed!);
    const cond = new ort.Tensor('int64', BigInt64Array.of(BigInt(meta.condition!)), [1]);
    const out = new Float32Array(meta.samples!);
    let x = 128;
    for (let t = 0; t < out.length; t++) {
      dilations.forEach((d, i) => past.set(queues[i]!.subarray((t % d) * R, (t % d + 1) * R), i * R));
      const result = await session.run({ x: new ort.Tensor('int64', BigInt64Array.of(BigInt(x)), [1]), cond, past: new ort.Tensor('float32', past, [L, 1, R]) });
      const inputs = result.inputs.data as Float32Array;
      dilations.forEach((d, i) => queues[i]!.set(inputs.subarray(i * R, (i + 1) * R), (t % d) * R));
      x = sampleCategorical(result.logits.data as Float32Array, 1, rng);
      out[t] = x;
    }
    return out;
  };
  return { call: generate, output: generate, expected: floats('classes'), items: 1, close: () => session.release() };
}

/** Greedy decoding on onnxruntime: model.onnx encodes, step.onnx decodes a token with the KV cache in and out. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function onnxGreedy(ort: any, encoder: any, step: any): Prepared {
  const config = readModelConfig(dir) as Record<string, number>;
  const src = io.get('src');
  const [B, S] = src.shape as [number, number];
  const [L, H, dk] = [config.decoder_layers!, config.heads!, config.d_model! / config.heads!];
  const padding = new ort.Tensor('bool', Uint8Array.from(src.data as BigInt64Array, (id) => Number(id === BigInt(config.pad_id!))), [B, S]);
  const V = config.tgt_vocab_size!;
  const translate = async () => {
    const { cross } = await encoder.run({ src: new ort.Tensor('int64', src.data, [B, S]) });
    let past = new ort.Tensor('float32', new Float32Array(0), [L, 2, B, H, 0, dk]);
    const token = new BigInt64Array(B).fill(BigInt(config.bos_id!));
    const done = new Array<boolean>(B).fill(false);
    const out: number[][] = Array.from({ length: B }, () => []);
    for (let t = 0; t < meta.max_length! && !done.every(Boolean); t++) {
      const result = await step.run({ token: new ort.Tensor('int64', token, [B]), position: new ort.Tensor('int64', BigInt64Array.of(BigInt(t)), [1]), cross, padding, past });
      past = result.present;
      const logits = result.logits.data as Float32Array;
      for (let b = 0; b < B; b++) {
        if (done[b]) { token[b] = BigInt(config.eos_id!); continue; }
        const next = sampleCategorical(logits.subarray(b * V, (b + 1) * V), 0, undefined);
        if (next !== config.eos_id) out[b]!.push(next);
        token[b] = BigInt(next);
        done[b] = next === config.eos_id || t + 1 >= meta.max_length!;
      }
    }
    return greedyVector(out);
  };
  return { call: translate, output: translate, expected: floats('greedy'), items: 1, close: async () => { await encoder.release(); await step.release(); } };
}

/**
 * A Marian directory on onnxruntime as transformers.js runs one: encoder_model.onnx once, then
 * decoder_model.onnx for the first step and decoder_with_past_model.onnx after it, the decoder's
 * keys and values carried from each step's present to the next step's past (the encoder's from the
 * first step). The searches are hibiki's own coroutines (hf-beam.ts), so both engines do the same
 * search work; a beam reorder gathers the decoder past's rows, as transformers' _reorder_cache.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function onnxMarian(ort: any, options: Record<string, unknown>): Promise<Prepared> {
  const json = (name: string) => JSON.parse(readFileSync(`${marianDir}${name}`, 'utf8')) as Record<string, unknown>;
  const config = json('config.json');
  const settings = withRequest(parseGenerationConfig('generation_config.json', json('generation_config.json'), config), marianRequest);
  const open = async (name: string) => ort.InferenceSession.create(readFileSync(`${marianDir}${name}`), options);
  const [encoder, first, next] = [await open('encoder_model.onnx'), await open('decoder_model.onnx'), await open('decoder_with_past_model.onnx')];
  const [ids, mask] = [io.get('input_ids'), io.get('attention_mask')];
  const [B, S] = ids.shape as [number, number];
  const K = settings.numBeams;
  const N = B * K;
  const V = config.vocab_size as number;
  const d = config.d_model as number;
  /** Each of B rows of `size` values repeated K times (transformers' expansion for beam search). */
  const expand = <T extends Float32Array | BigInt64Array>(x: T, size: number): T => {
    const out = new (x.constructor as new (n: number) => T)(N * size);
    for (let r = 0; r < N; r++) (out as Float32Array).set(x.subarray(Math.floor(r / K) * size, (Math.floor(r / K) + 1) * size) as Float32Array, r * size);
    return out;
  };
  const translate = async () => {
    const { last_hidden_state: hidden } = await encoder.run({ input_ids: new ort.Tensor('int64', ids.data, [B, S]), attention_mask: new ort.Tensor('int64', mask.data, [B, S]) });
    const encoderMask = new ort.Tensor('int64', expand(mask.data as BigInt64Array, S), [N, S]);
    const encoderHidden = new ort.Tensor('float32', expand(hidden.data as Float32Array, S * d), [N, S, d]);
    let past: Record<string, { data: Float32Array; dims: number[] }> | undefined;
    const decoder: AsyncStepDecoder = {
      vocab: V,
      async step(tokens) {
        const input_ids = new ort.Tensor('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [N, 1]);
        const result = past
          ? await next.run({ input_ids, encoder_attention_mask: encoderMask, ...past })
          : await first.run({ input_ids, encoder_attention_mask: encoderMask, encoder_hidden_states: encoderHidden });
        past ??= {};
        for (const [name, value] of Object.entries(result)) if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = value as never;
        return (result.logits as { data: Float32Array }).data;
      },
      reorder(parent) {
        for (const [name, t] of Object.entries(past!)) {
          if (!name.includes('.decoder.')) continue; // the encoder's keys and values are the same for a sentence's every beam
          const row = t.data.length / N;
          const out = new Float32Array(t.data.length);
          for (let r = 0; r < N; r++) out.set(t.data.subarray(parent[r]! * row, (parent[r]! + 1) * row), r * row);
          past![name] = new ort.Tensor('float32', out, t.dims);
        }
      },
    };
    return K === 1 ? (await runSearchAsync(decoder, hfGreedySteps(V, B, settings))).map((s) => [s]) : runSearchAsync(decoder, hfBeamSteps(V, B, settings));
  };
  const pad = settings.padTokenId;
  return {
    call: translate, output: async () => sequencesVector(await translate(), pad), expected: floats('sequences'), items: 1, tokens: marianTokens(pad),
    close: async () => { for (const s of [encoder, first, next]) await s.release(); },
  };
}

/** TensorFlow.js on its wasm backend (XNNPACK): every case but the Transformer, in TF.js ops (tfjs-models.ts). */
async function tfjsWasm(): Promise<Prepared> {
  const peers = createRequire(fileURLToPath(new URL('./package.json', import.meta.url)));
  const tf = peers('@tensorflow/tfjs');
  const wasm = peers('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(fileURLToPath(new URL('./node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)));
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
  await tf.setBackend('wasm');
  await tf.ready();
  /** Runs `fn` and reads its output back (TF.js computes lazily: the read is part of the time). */
  const prepared = (fn: () => unknown, expected: Float32Array): Prepared => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const run = () => { const y = fn() as any; const data = y.dataSync() as Float32Array; y.dispose(); return data; };
    return { call: run, output: run, expected, items: 1 };
  };
  if (meta.kind === 'face') {
    const faceapi = peers('@vladmandic/face-api/dist/face-api.node-wasm.js');
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(fileURLToPath(new URL('./node_modules/@vladmandic/face-api/model', import.meta.url)));
    const image = decodeImage(readFileSync(FACE_IMAGE), FACE_IMAGE);
    const x = tf.tensor3d(Int32Array.from(image.data), [image.height, image.width, 3], 'int32');
    const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 });
    const run = async () => {
      const found = (await faceapi.detectAllFaces(x, options)) as Array<{ score: number; box: { x: number; y: number; width: number; height: number } }>;
      return faceVector(found.map((d) => ({ score: d.score, bbox: [d.box.x, d.box.y, d.box.width, d.box.height] })));
    };
    return { call: run, output: run, expected: faceExpected(), items: 1 };
  }
  if (meta.kind === 'sgemm') {
    const n = meta.n!;
    const a = tf.tensor2d(floats('a'), [n, n]);
    const b = tf.tensor2d(floats('b'), [n, n]);
    return prepared(() => tf.matMul(a, b), floats('c'));
  }
  const weights = existsSync(`${dir}model.safetensors`) ? readSafetensors(`${dir}model.safetensors`) : undefined;
  if (meta.kind === 'classifier') {
    const forward = (meta.model === 'mobilenet_v2' ? tfjsMobileNetV2 : tfjsDenseNet121)(tf, weights!);
    const x = tf.tensor4d(channelsLast(floats('x'), 3, 224, 224), [1, 224, 224, 3]);
    return prepared(() => forward(x), floats('logits'));
  }
  if (meta.kind === 'mha') {
    const forward = tfjsSelfAttention(tf, weights!, meta.heads!);
    const x = tf.tensor2d(floats('x'), [128, 256]);
    return prepared(() => forward(x), floats('y'));
  }
  if (meta.kind === 'wavenet') {
    const forward = tfjsWaveNet(tf, weights!, readModelConfig(dir) as never);
    const x = tf.tensor1d(Int32Array.from(io.get('x').data as BigInt64Array, Number), 'int32');
    const cond = Number((io.get('cond').data as BigInt64Array)[0]);
    return { ...prepared(() => forward(x, cond), floats('logits')), transposed: logitsLayout() };
  }
  throw new Error(`tfjs-wasm: ${caseName} is not written in TF.js ops`);
}

/** Timing windows per measurement (see measure). */
const WINDOWS = 4;

/** Checks the engine's output against PyTorch's, then times it; prints the JSON line. */
async function measure(prepared: Prepared): Promise<void> {
  // Discrete outputs (sampled classes, greedy tokens) must be equal; maxError counts the positions that differ.
  // Others: within 1e-3 of PyTorch's, relative to the output's scale.
  const got = await prepared.output();
  const [rows, cols] = prepared.transposed ?? [0, 0];
  const discrete = meta.kind === 'wavenet_step' || meta.kind === 'transformer_greedy' || meta.kind === 'marian';
  let maxError = 0;
  let scale = 1;
  for (let i = 0; i < prepared.expected.length; i++) scale = Math.max(scale, Math.abs(prepared.expected[i]!));
  for (let i = 0; i < prepared.expected.length; i++) {
    // expected [classes, T] (PyTorch's NCW) against ours [T, classes]
    const j = prepared.transposed ? (i % rows) * cols + Math.floor(i / rows) : i;
    if (discrete) maxError += got[j] === prepared.expected[i] ? 0 : 1;
    else maxError = Math.max(maxError, Math.abs(got[j]! - prepared.expected[i]!) / scale);
  }
  // int8 is not float32: its tokens are counted where they differ (and reported), not refused.
  const exact = !INT8;
  if ((exact && got.length !== prepared.expected.length) || (discrete ? exact && maxError > 0 : !(maxError <= 1e-3))) {
    throw new Error(`${engine} on ${caseName}: output differs from PyTorch's ${discrete ? `at ${maxError} positions` : `by ${maxError} (relative)`}`);
  }

  // Four windows of a quarter of the time each, and the best window's median: this VM slows down in
  // bursts of a few seconds (never speeds up), so a burst that covers part of a run does not decide it.
  // tools/peers_torch.py does the same for PyTorch.
  let best = Infinity;
  for (let window = 0; window < WINDOWS; window++) {
    const bench = new Bench({ time: Number(process.env.PEERS_TIME_MS ?? 2000) / WINDOWS, iterations: 3, warmupTime: window ? 0 : 200, warmupIterations: window ? 0 : 2 });
    bench.add('call', prepared.call);
    const [task] = await bench.run();
    best = Math.min(best, (task!.result as { latency: { p50: number } }).latency.p50);
  }
  const ms = best / prepared.items;
  await prepared.close?.();
  const tokens = prepared.tokens === undefined ? {} : { tokens: prepared.tokens, tokensPerSecond: (1000 * prepared.tokens) / ms };
  console.log(JSON.stringify({ engine, threads, case: caseName, ms, perSecond: 1000 / ms, ...tokens, maxError, rssMiB: process.resourceUsage().maxRSS / 1024 }));
}

if (isMainThread) {
  const engines: Record<string, () => Promise<Prepared>> = { hibiki, 'hibiki-int8': hibiki, 'ort-web': () => onnxruntime('web'), 'ort-node': () => onnxruntime('node'), 'tfjs-wasm': tfjsWasm };
  if (!engines[engine!]) throw new Error(`unknown engine ${engine}; engines: ${Object.keys(engines).join(', ')}`);
  void engines[engine!]!().then(measure);
} else {
  // One of hibikiTwoWorkers' threads: answers 'ready', 'run4' (four calls) and 'output'.
  void hibiki().then((mine) => parentPort!.on('message', async (message: string) => {
    if (message === 'run4') for (let i = 0; i < 4; i++) await mine.call();
    parentPort!.postMessage(message === 'output' ? await mine.output() : message);
  }));
}
