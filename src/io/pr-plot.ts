/**
 * Precision–recall curves drawn to a PNG: pureimage (a pure-JS canvas, so no
 * native binaries) with DejaVu Sans (shipped in assets/fonts). One
 * polyline per curve over recall × precision in [0, 1]², the legend beside
 * the plot with each curve's AP.
 */
import * as PImage from 'pureimage';
import { writeFileAtomic } from './atomic.js';
import { FONT, encodePng, loadFont } from './canvas.js';

/** One precision–recall curve to draw, labelled with its average precision. */
export interface PlotCurve {
  label: string;
  ap: number;
  recall: readonly number[];
  precision: readonly number[];
}

export const PLOT_WIDTH = 820;
export const PLOT_HEIGHT = 520;
/** The plot area in pixels: recall 0…1 maps to left…right, precision 1…0 to top…bottom. */
export const PLOT_AREA = { left: 70, top: 44, right: 530, bottom: 460 } as const;
/** matplotlib's tab10, so the colours look familiar. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const LEGEND_ROWS = 24;

export const plotX = (recall: number) => PLOT_AREA.left + recall * (PLOT_AREA.right - PLOT_AREA.left);
export const plotY = (precision: number) => PLOT_AREA.bottom - precision * (PLOT_AREA.bottom - PLOT_AREA.top);

/** The PNG bytes of the curves under `title`. */
export function renderPrCurves(curves: readonly PlotCurve[], title: string): Uint8Array {
  loadFont();
  const image = PImage.make(PLOT_WIDTH, PLOT_HEIGHT);
  const ctx = image.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, PLOT_WIDTH, PLOT_HEIGHT);
  const line = (x0: number, y0: number, x1: number, y1: number) => { ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke(); };

  // grid, ticks and axis labels
  ctx.font = `12px '${FONT}'`;
  ctx.lineWidth = 1;
  for (let i = 0; i <= 5; i++) {
    const v = i / 5;
    ctx.strokeStyle = '#e0e0e0';
    line(plotX(v), PLOT_AREA.top, plotX(v), PLOT_AREA.bottom);
    line(PLOT_AREA.left, plotY(v), PLOT_AREA.right, plotY(v));
    ctx.fillStyle = '#000000';
    ctx.fillText(v.toFixed(1), plotX(v) - 9, PLOT_AREA.bottom + 18);
    ctx.fillText(v.toFixed(1), PLOT_AREA.left - 30, plotY(v) + 4);
  }
  ctx.strokeStyle = '#000000';
  line(PLOT_AREA.left, PLOT_AREA.bottom, PLOT_AREA.right, PLOT_AREA.bottom);
  line(PLOT_AREA.left, PLOT_AREA.top, PLOT_AREA.left, PLOT_AREA.bottom);
  ctx.font = `14px '${FONT}'`;
  ctx.fillText('Recall', (PLOT_AREA.left + PLOT_AREA.right) / 2 - 20, PLOT_AREA.bottom + 42);
  ctx.fillText('Precision', 8, PLOT_AREA.top - 8);
  ctx.font = `16px '${FONT}'`;
  ctx.fillText(title, PLOT_AREA.left + 40, 22);

  // curves, then the legend
  ctx.lineWidth = 2;
  curves.forEach((c, i) => {
    if (c.recall.length === 0) return;
    ctx.strokeStyle = PALETTE[i % PALETTE.length]!;
    ctx.beginPath();
    ctx.moveTo(plotX(c.recall[0]!), plotY(c.precision[0]!));
    for (let j = 1; j < c.recall.length; j++) ctx.lineTo(plotX(c.recall[j]!), plotY(c.precision[j]!));
    ctx.stroke();
  });
  ctx.font = `12px '${FONT}'`;
  curves.slice(0, LEGEND_ROWS).forEach((c, i) => {
    const y = PLOT_AREA.top + 8 + i * 18;
    ctx.fillStyle = PALETTE[i % PALETTE.length]!;
    ctx.fillRect(PLOT_AREA.right + 20, y - 6, 18, 4);
    ctx.fillStyle = '#000000';
    ctx.fillText(`${c.label}  AP ${c.ap < 0 ? '—' : c.ap.toFixed(3)}`, PLOT_AREA.right + 44, y);
  });
  if (curves.length > LEGEND_ROWS) ctx.fillText(`… and ${curves.length - LEGEND_ROWS} more`, PLOT_AREA.right + 44, PLOT_AREA.top + 8 + LEGEND_ROWS * 18);

  return encodePng(image);
}

/** Writes the curves to `path` as a PNG, atomically. */
export function writePrPlot(path: string, curves: readonly PlotCurve[], title: string): void {
  writeFileAtomic(path, renderPrCurves(curves, title), 'PNG plot');
}
