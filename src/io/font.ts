import { createRequire } from 'node:module';
import * as PImage from 'pureimage';

/** The family name our drawings use: DejaVu Sans from the dejavu-fonts-ttf package. */
export const FONT = 'DejaVu Sans';

let loaded = false;

/** Registers DejaVu Sans with pureimage once per process (pureimage keeps its fonts in a global registry). */
export function loadFont(): void {
  if (loaded) return;
  PImage.registerFont(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'), FONT).loadSync();
  loaded = true;
}
