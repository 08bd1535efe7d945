import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type RgbImage, decodeImage } from '../../src/io/image.js';

/** test/fixtures/face/reference.json, written by tools/face_api_reference.mjs from face-api 1.7.15 (tfjs wasm). */
export interface FaceReference {
  versions: Record<string, string>;
  options: { max_results: number; iou_threshold: number; thresholds: number[] };
  weights: Array<{ name: string; dtype: string; shape: number[]; head: number[]; at: Array<[number, number]>; sum: number }>;
  images: FaceReferenceImage[];
}

export interface RawEntry {
  anchor: number;
  score: number;
  box: [number, number, number, number];
}

export interface FaceReferenceImage {
  name: string;
  /** Relative to the repository root. */
  file: string;
  crop?: { x: number; y: number; width: number; height: number };
  width: number;
  height: number;
  rgb_sha256: string;
  detections: Record<string, Array<{ box: [number, number, number, number]; score: number }>>;
  raw: { count: number; top: RawEntry[]; sampled: RawEntry[] };
}

const ROOT = new URL('../../', import.meta.url);

export const faceReference = (): FaceReference =>
  JSON.parse(readFileSync(new URL('test/fixtures/face/reference.json', ROOT), 'utf8')) as FaceReference;

export const repoPath = (relative: string) => fileURLToPath(new URL(relative, ROOT));

/** The image face-api was given: the sample decoded, cropped if the fixture says so. */
export function referenceImage(ref: FaceReferenceImage): RgbImage {
  const full = decodeImage(readFileSync(repoPath(ref.file)), ref.file);
  if (!ref.crop) return full;
  const { x, y, width, height } = ref.crop;
  const data = new Uint8Array(width * height * 3);
  for (let r = 0; r < height; r++) {
    const from = ((y + r) * full.width + x) * 3;
    data.set(full.data.subarray(from, from + width * 3), r * width * 3);
  }
  return { width, height, channels: 3, data };
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A face-api box [x, y, w, h] clipped to a W×H image, as hibiki reports it (face-api lets boxes run into the padding). */
export function clipToImage(box: readonly number[], W: number, H: number): [number, number, number, number] {
  const [x, y, w, h] = box as [number, number, number, number];
  const [left, top] = [Math.min(W, Math.max(0, x)), Math.min(H, Math.max(0, y))];
  return [left, top, Math.max(0, Math.min(W, x + w) - left), Math.max(0, Math.min(H, y + h) - top)];
}
