/**
 * hibiki: neural inference for Node.js on WebAssembly SIMD kernels.
 *
 * The kernel core: a `Runtime` (the kernels instantiated over a heap of
 * linear memory), `Tensor`s in that heap (channels-last, f32), typed
 * operations that check their arguments before any kernel runs, the
 * safetensors format, and one error class with stable codes.
 */
export { HibikiError, type ErrorCode } from './errors.js';

export { Runtime, type RuntimeOptions } from './runtime/runtime.js';
export { Heap } from './runtime/memory.js';
export { Tensor, type Shape, sizeOf, formatShape } from './runtime/tensor.js';
export { Rng } from './runtime/rng.js';
export { kernelModule, instantiateKernels, kernelBuild, relaxedSimdSupported, selectKernelBuild } from './runtime/wasm.js';
export type { KernelBuild } from './runtime/wasm.js';
export type { KernelExports } from './runtime/exports.js';
export { KERNELS, type KernelEntry, type Problem } from './kernels/registry.js';

export type { Pair } from './runtime/ops/args.js';
export {
  type Activation, activation, gatedTanh, softmax, add, mul, concatChannels,
} from './runtime/ops/activation.js';
export { type PackedMatrix, type GemmOptions, packMatrix, gemm, matmul } from './runtime/ops/gemm.js';
export {
  type PackedConv2d, type DepthwiseWeight, type PackedConvTranspose2d, type PackedCausalConv1d,
  packConv2dWeight, packDepthwiseWeight, packConvTranspose2dWeight, packCausalConv1dWeight,
  conv2d, depthwiseConv2d, convTranspose2d, causalConv1d,
} from './runtime/ops/conv.js';
export {
  IndexTensor, indexTensor, maxPool2d, maxPool2dWithIndices, avgPool2d, globalAvgPool, maxUnpool2d,
  upsampleNearest, upsampleBilinear,
} from './runtime/ops/pool.js';
export {
  type BatchNormStats, type FoldedBatchNorm, foldBatchNorm, foldBatchNormIntoConv, batchNorm, layerNorm, instanceNorm,
} from './runtime/ops/norm.js';
export { type AttentionOptions, scaledDotProductAttention } from './runtime/ops/attention.js';

export { Pool, type PoolOptions, type PoolStats } from './pool/pool.js';
export { Engine } from './pool/engine.js';
export type { Progress, RunOptions, RunResult, ItemFailure } from './pool/job.js';
export { readModelDir, type ModelDir } from './io/model-dir.js';
export { SentencePiece, type SentencePieceModelType } from './text/sentencepiece.js';
export { ARCHITECTURES, loadModel, type Architecture, type BatchModel, type ModelLayout } from './models/index.js';

export {
  type DType, type SafeTensor, SafeTensorsFile, parseSafetensors, readSafetensors, serializeSafetensors,
  writeSafetensors, toInt32,
} from './io/safetensors.js';

export { benchKernels, type KernelBenchReport, type KernelBenchRow } from './kernels/bench.js';
export { systemInfo, formatSystemLine, type SystemInfo } from './runtime/system.js';

export {
  type BleuOptions, type BleuScore, type BleuSmoothing, type ComputeBleuOptions, BLEU_SMOOTHING, SMOOTH_DEFAULTS,
  corpusBleu, sentenceBleu, computeBleu,
} from './metrics/bleu.js';
export { type BleuTokenizer, BLEU_TOKENIZERS, tokenize13a, tokenizeIntl, tokenizeChar } from './metrics/tokenize-bleu.js';
export { type ChrfOptions, corpusChrf, sentenceChrf } from './metrics/chrf.js';
export { type Calibration, type CalibrationBin, calibration } from './metrics/calibration.js';
export { type MetricScore, type Confidence, type ReferenceLine, SACREBLEU_VERSION } from './metrics/sacrebleu-compat.js';
export { bootstrapIndices } from './metrics/bootstrap.js';
export { batchedNms, boxIou, nms, nmsTopK, xywhToXyxy } from './metrics/nms.js';
export { type TranslateOptions, type TranslateResult, type Translation, Translator } from './tasks/translator.js';
export { type SearchRequest, type TransformerConfig, Transformer, loadTransformer, parseTransformerConfig } from './models/transformer.js';
export { type Hypothesis, type StepDecoder, beamSearch, greedySearch } from './decode/search.js';
export { type PrecisionRecall, type VocBox, type VocDetection, type VocOptions, type VocResult, ap11Point, apAllPoints, precisionRecallAt, vocEvaluate } from './metrics/voc.js';
export { type CocoDetection, type CocoGroundTruth, type CocoIouType, type CocoOptions, type CocoResult, type PrCurve, COCO_STAT_NAMES, cocoEvaluate, statNames } from './metrics/coco.js';
export { type Rle, type Segmentation, rleArea, rleDecode, rleEncode, rleFromBbox, rleFromPolygon, rleFromString, rleIou, rleMerge, rleToBbox, rleToString, toRle } from './metrics/mask-rle.js';
export { type PlotCurve, renderPrCurves, writePrPlot } from './io/pr-plot.js';
export { type SegmentationScore, maskIou, segmentationIou } from './metrics/segmentation.js';
export { type PitchOptions, fundamentalHz, midiToHz, midiToNoteName, noteNameToMidi } from './metrics/pitch.js';

export {
  type CallOptions, type ClassMask, type ClassOptions, type DetectOptions, type DetectedObject, type OpenOptions, type RankedClass, type SegmentationResult,
  type VisionResult, type ImageInput, Classifier, Detector, Segmenter, classMasks, topK,
} from './tasks/vision.js';
export { DEFAULT_MODELS, DEFAULT_WAVENET, GENERATE_DEFAULTS, MAX_SECONDS, SERVE_LIMITS } from './tasks/defaults.js';
export { type Image, decodeImage } from './io/image.js';
export { drawBoxes } from './io/draw-boxes.js';
export { multipleGridAnchors, decodeBoxes, selectDetections } from './models/ssd.js';
export { type GenerateOptions, type GenerateResult, Generator } from './tasks/generator.js';

// Types the functions above take or return, exported so the API reference (npm run docs) can show them.
export type { AnchorOptions, SelectOptions, SsdDetection } from './models/ssd.js';
export type { AvgPool2dOptions, BilinearOptions, MaxPool2dOptions, MaxUnpool2dOptions, UpsampleOptions } from './runtime/ops/pool.js';
export type { BeamOptions, SearchOptions } from './decode/search.js';
export type { CausalConv1dOptions, ConvTranspose2dOptions, SpatialOptions } from './runtime/ops/conv.js';
export type { DecoderLayer, DecoderState, Encoded, EncoderLayer, FeedForward, LayerNorm as TransformerNorm, TransformerLayout, TransformerState, TransformerWeights } from './models/transformer.js';
export type { DrawnBox } from './io/draw-boxes.js';
export type { GenerateRequest, WaveNetConfig } from './models/wavenet.js';
export type { KernelBenchOptions } from './kernels/bench.js';
export type { KernelFamily } from './kernels/problem.js';
export type { NormOptions } from './runtime/ops/norm.js';
export type { Region } from './runtime/memory.js';
export type { RgbImage } from './io/image.js';
export type { TensorData, TensorInput } from './io/safetensors.js';
export type { VocClassResult } from './metrics/voc.js';
export type { WavFormat } from './io/wav.js';
