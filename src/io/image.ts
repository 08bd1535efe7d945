/**
 * Images in: PNG (pngjs) and JPEG (jpeg-js) decoded to 8-bit RGB, and
 * TensorFlow's legacy bilinear resize, the one face-api's detector input goes
 * through.
 *
 * Decoding reads the size from the file's header first and refuses absurd
 * dimensions before anything is allocated for the pixels; every failure is
 * E_BAD_INPUT naming the file. Alpha is dropped, not composited (as face-api
 * does with an RGBA canvas); grey and palette PNGs are expanded to RGB;
 * 16-bit PNGs are scaled to 8 bits.
 */
import { inflateSync, constants as zlibConstants } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { HibikiError, badInput } from '../errors.js';

/** Interleaved 8-bit pixels, rows top to bottom: data[(y · width + x) · channels + c]. */
export interface Image {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/** A decoded image with three channels, what decodeImage returns. */
export interface RgbImage extends Image {
  channels: 3;
}

/** Larger images are refused from their header. */
export const MAX_IMAGE_SIDE = 16384;
export const MAX_IMAGE_PIXELS = 100_000_000;

export type ImageFormat = 'png' | 'jpeg';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format and size a PNG or JPEG file declares, read from its header only, before any limit is applied. */
export function imageDimensions(bytes: Uint8Array, where: string): { format: ImageFormat; width: number; height: number } {
  const { format, width, height } = isPng(bytes) ? pngSize(bytes, where)
    : bytes[0] === 0xff && bytes[1] === 0xd8 ? jpegSize(bytes, where)
    : unsupported(bytes, where);
  if (width < 1 || height < 1) throw badInput(`${where}: the ${format} header gives an empty image (${width}×${height})`);
  return { format, width, height };
}

/** Whether an image of this size is within what the decoders accept. */
export const withinImageLimits = (width: number, height: number) =>
  width <= MAX_IMAGE_SIDE && height <= MAX_IMAGE_SIDE && width * height <= MAX_IMAGE_PIXELS;

/** The format and size a PNG or JPEG file declares, read from its header only; E_BAD_INPUT past the decoders' limits. */
export function imageHeader(bytes: Uint8Array, where: string): { format: ImageFormat; width: number; height: number } {
  const { format, width, height } = imageDimensions(bytes, where);
  if (!withinImageLimits(width, height)) {
    throw badInput(`${where}: ${width}×${height} pixels is larger than hibiki accepts (${MAX_IMAGE_SIDE} a side, ${MAX_IMAGE_PIXELS / 1e6} M pixels)`);
  }
  return { format, width, height };
}

function unsupported(bytes: Uint8Array, where: string): never {
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw badInput(`${where}: not a PNG or JPEG file (starts with ${head || 'nothing'})`);
}

function isPng(bytes: Uint8Array): boolean {
  for (let i = 0; i < PNG_SIGNATURE.length; i++) if (bytes[i] !== PNG_SIGNATURE[i]) return false;
  return true;
}

// Byte by byte, without a view or a string per call: a pool's calling thread reads every image's header.
function pngSize(bytes: Uint8Array, where: string): { format: ImageFormat; width: number; height: number } {
  // 'IHDR' at bytes 12–15, then the width and height big-endian
  if (bytes.length < 24 || bytes[12] !== 0x49 || bytes[13] !== 0x48 || bytes[14] !== 0x44 || bytes[15] !== 0x52) {
    throw badInput(`${where}: truncated or corrupt PNG (no IHDR chunk after the signature)`);
  }
  return { format: 'png', width: u32be(bytes, 16), height: u32be(bytes, 20) };
}

const u32be = (bytes: Uint8Array, at: number) => ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;

/** Walks the JPEG segments to the frame header (SOFn). */
function jpegSize(bytes: Uint8Array, where: string): { format: ImageFormat; width: number; height: number } {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw badInput(`${where}: corrupt JPEG (no segment marker at byte ${at})`);
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (at + 9 > bytes.length) break;
      return { format: 'jpeg', height: (bytes[at + 5]! << 8) | bytes[at + 6]!, width: (bytes[at + 7]! << 8) | bytes[at + 8]! };
    }
    if (marker === 0xda || marker === 0xd9) throw badInput(`${where}: corrupt JPEG (image data before any frame header)`);
    at += 2 + length;
  }
  throw badInput(`${where}: truncated JPEG (the file ends before its frame header)`);
}

/** Channels per PNG colour type (greyscale, RGB, palette, grey + alpha, RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Adam7's passes: [x0, y0, dx, dy]. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/**
 * Checks that a PNG's compressed pixel data (its IDAT chunks) holds every
 * row its header declares. pngjs decodes a short stream without complaint,
 * leaving the missing rows as whatever the buffer held (a different image, or
 * error, from run to run); a truncated image must fail the same way every time.
 */
function checkPngData(bytes: Uint8Array, width: number, height: number, where: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const depth = bytes[24]!;
  const channels = PNG_CHANNELS[bytes[25]!];
  const interlaced = bytes[28] === 1;
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(depth)) {
    throw badInput(`${where}: corrupt PNG (colour type ${bytes[25]} with bit depth ${depth})`);
  }
  const rowBytes = (w: number) => 1 + Math.ceil((w * channels * depth) / 8); // a filter byte, then the pixels
  const passes = interlaced ? ADAM7 : [[0, 0, 1, 1] as const];
  let expected = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) expected += h * rowBytes(w);
  }
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length)));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  let got = 0;
  try {
    // A sync flush returns what a cut stream holds instead of throwing; maxOutputLength stops a zip bomb at the size declared.
    got = inflateSync(Buffer.concat(idat), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: expected + 1 }).length;
  } catch (cause) {
    const e = cause as { code?: string; message: string };
    if (e.code === 'ERR_BUFFER_TOO_LARGE') return; // more data than declared: pngjs decides
    throw badInput(`${where}: truncated or corrupt PNG (its pixel data does not inflate: ${e.message})`);
  }
  if (got < expected) {
    throw badInput(`${where}: truncated PNG (its pixel data holds ${got} of the ${expected} bytes ${width}×${height} needs)`);
  }
}

/** Decodes a PNG or JPEG file's bytes to RGB; `where` (the file name) goes into every error. */
export function decodeImage(bytes: Uint8Array, where: string): RgbImage {
  const { format, width, height } = imageHeader(bytes, where);
  let rgba: Uint8Array;
  try {
    if (format === 'png') {
      checkPngData(bytes, width, height, where);
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      rgba = png.data;
    } else {
      rgba = jpeg.decode(bytes, {
        useTArray: true, formatAsRGBA: true, tolerantDecoding: false,
        maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 2048,
      }).data;
    }
  } catch (cause) {
    if (cause instanceof HibikiError) throw cause;
    throw badInput(`${where}: truncated or corrupt ${format.toUpperCase()} (${(cause as Error).message})`);
  }
  if (rgba.length !== width * height * 4) {
    throw badInput(`${where}: truncated or corrupt ${format.toUpperCase()} (decoded ${rgba.length} bytes for ${width}×${height} RGBA)`);
  }
  return { width, height, channels: 3, data: toRgb({ width, height, channels: 4, data: rgba }).data };
}

/** The image as RGB: grey expanded, alpha dropped; an RGB image is returned as is. */
export function toRgb(image: Image): RgbImage {
  const { width, height, channels: C, data } = image;
  if (C === 3) return image as RgbImage;
  const pixels = width * height;
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const s = p * C;
    rgb[3 * p] = data[s]!;
    rgb[3 * p + 1] = data[C === 1 ? s : s + 1]!;
    rgb[3 * p + 2] = data[C === 1 ? s : s + 2]!;
  }
  return { width, height, channels: 3, data: rgb };
}

const f = Math.fround;

/**
 * tf.image.resizeBilinear(alignCorners = false, halfPixelCenters = false), TF's
 * legacy rule, in float32 as TensorFlow.js computes it: output index o reads
 * source position o · (in / out), interpolating along x (top and bottom rows),
 * then along y; the last row and column repeat at the edge. No antialiasing.
 *
 * `frame` is the size the source counts as (default its own): pixels beyond
 * the source but inside the frame are zero — face-api pads an image to a
 * square at the top-left before resizing, and this reads that square without
 * building it. Returns [outHeight, outWidth, channels] floats, in `out` when
 * given (e.g. a tensor's view of linear memory: no array of its own to free).
 */
export function resizeBilinearLegacy(
  src: { width: number; height: number; channels: number; data: ArrayLike<number> },
  outWidth: number, outHeight: number, frame: { width: number; height: number } = src,
  out: Float32Array = new Float32Array(outHeight * outWidth * src.channels),
): Float32Array {
  const { width: W, height: H, channels: C, data } = src;
  const axis = (inSize: number, outSize: number) => {
    const scale = f(inSize / outSize);
    const i0 = new Int32Array(outSize);
    const i1 = new Int32Array(outSize);
    const frac = new Float32Array(outSize);
    for (let o = 0; o < outSize; o++) {
      const s = f(o * scale);
      i0[o] = Math.floor(s);
      i1[o] = Math.min(i0[o]! + 1, inSize - 1);
      frac[o] = f(s - i0[o]!);
    }
    return { i0, i1, frac };
  };
  const xs = axis(frame.width, outWidth);
  const ys = axis(frame.height, outHeight);
  const at = (y: number, x: number, c: number) => (y < H && x < W ? data[(y * W + x) * C + c]! : 0);
  if (out.length !== outHeight * outWidth * C) throw new HibikiError('E_INTERNAL', `resizeBilinearLegacy: out holds ${out.length} floats, not ${outHeight}·${outWidth}·${C}`);
  for (let oy = 0; oy < outHeight; oy++) {
    const y0 = ys.i0[oy]!;
    const y1 = ys.i1[oy]!;
    const fy = ys.frac[oy]!;
    for (let ox = 0; ox < outWidth; ox++) {
      const x0 = xs.i0[ox]!;
      const x1 = xs.i1[ox]!;
      const fx = xs.frac[ox]!;
      for (let c = 0; c < C; c++) {
        const tl = at(y0, x0, c);
        const bl = at(y1, x0, c);
        const top = f(tl + f(f(at(y0, x1, c) - tl) * fx));
        const bottom = f(bl + f(f(at(y1, x1, c) - bl) * fx));
        out[(oy * outWidth + ox) * C + c] = f(top + f(f(bottom - top) * fy));
      }
    }
  }
  return out;
}
