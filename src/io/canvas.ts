// What our pureimage drawings share: the font, and PNG encoding straight from the RGBA buffer with
// pngjs (pureimage's own encoder reads the bitmap pixel by pixel through function calls, far slower).
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import * as PImage from 'pureimage';

/** The family name our drawings use: DejaVu Sans, shipped in assets/fonts (its licence beside it). */
export const FONT = 'DejaVu Sans';

let loaded = false;

/** Registers DejaVu Sans with pureimage once per process (pureimage keeps its fonts in a global registry). */
export function loadFont(): void {
  if (loaded) return;
  PImage.registerFont(fileURLToPath(new URL('../../assets/fonts/DejaVuSans.ttf', import.meta.url)), FONT).loadSync();
  loaded = true;
}

/** A pureimage bitmap as PNG bytes. */
export function encodePng(bitmap: PImage.Bitmap): Uint8Array {
  const { width, height, data } = bitmap;
  return PNG.sync.write(Object.assign(new PNG({ width, height }), { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) }));
}
