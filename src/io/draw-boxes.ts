/**
 * Detections drawn over their image, as a PNG: a box and a "label score"
 * tag per detection (pureimage for the drawing and DejaVu Sans for the
 * text, canvas.ts for both).
 */
import * as PImage from 'pureimage';
import { FONT, encodePng, loadFont } from './canvas.js';
import type { Image } from './image.js';

/** A box to draw over an image, with the label and score written beside it. */
export interface DrawnBox {
  /** [x, y, width, height] in pixels. */
  bbox: readonly number[];
  score: number;
  label: string;
}

const COLOURS = ['#00e000', '#ff7f0e', '#1f77b4', '#d62728', '#9467bd', '#e377c2'];

/** The image with the boxes drawn on it, PNG-encoded. */
export function drawBoxes(image: Image, boxes: readonly DrawnBox[]): Uint8Array {
  loadFont();
  const { width, height, channels } = image;
  const bitmap = PImage.make(width, height);
  const rgba = bitmap.data;
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const grey = channels < 3;
    rgba[p * 4] = image.data[s]!;
    rgba[p * 4 + 1] = image.data[grey ? s : s + 1]!;
    rgba[p * 4 + 2] = image.data[grey ? s : s + 2]!;
    rgba[p * 4 + 3] = 255;
  }
  const ctx = bitmap.getContext('2d');
  const line = Math.max(2, Math.round(Math.min(width, height) / 250));
  const fontPx = Math.max(11, Math.round(Math.min(width, height) / 40));
  ctx.font = `${fontPx}px '${FONT}'`;
  const labels = [...new Set(boxes.map((b) => b.label))];
  for (const b of boxes) {
    const colour = COLOURS[labels.indexOf(b.label) % COLOURS.length]!;
    const [x, y, w, h] = b.bbox as [number, number, number, number];
    ctx.strokeStyle = colour;
    ctx.lineWidth = line;
    ctx.strokeRect(x, y, w, h);
    const tag = `${b.label} ${b.score.toFixed(2)}`;
    const tagW = ctx.measureText(tag).width + 6;
    const tagY = y - fontPx - 4 >= 0 ? y - fontPx - 4 : y; // above the box, or inside it at the top edge
    ctx.fillStyle = colour;
    ctx.fillRect(x, tagY, tagW, fontPx + 4);
    ctx.fillStyle = '#000000';
    ctx.fillText(tag, x + 3, tagY + fontPx);
  }
  return encodePng(bitmap);
}
