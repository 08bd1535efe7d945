/**
 * Detection files: COCO ground truth and results JSON, and VOC-style
 * directories of per-image text files (`class x1 y1 x2 y2 [difficult]` for
 * ground truth, `class score x1 y1 x2 y2` for detections; the file name
 * without .txt is the image). Every error names the file and the record.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { HibikiError, badInput } from '../errors.js';
import type { CocoDetection, CocoGroundTruth } from '../metrics/coco.js';
import type { VocBox, VocDetection } from '../metrics/voc.js';

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new HibikiError('E_IO', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readText(path));
  } catch (e) {
    if (e instanceof HibikiError) throw e;
    throw badInput(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

export function readCocoGroundTruth(path: string): CocoGroundTruth {
  const gt = readJson(path) as CocoGroundTruth;
  if (typeof gt !== 'object' || gt === null || Array.isArray(gt)) throw badInput(`${path}: expected a COCO ground-truth object`);
  return gt;
}

/** A COCO results array; cocoEvaluate checks each record against the ground truth. */
export function readCocoResults(path: string): CocoDetection[] {
  const dets = readJson(path);
  if (!Array.isArray(dets)) throw badInput(`${path}: expected a COCO results array`);
  return dets as CocoDetection[];
}

/** A VOC-style directory (or one file) of per-image text files. */
export function readVocDir(path: string, withScores: boolean): Array<VocBox | VocDetection> {
  let files: string[];
  try {
    files = statSync(path).isDirectory() ? readdirSync(path).filter((f) => f.endsWith('.txt')).sort().map((f) => join(path, f)) : [path];
  } catch (cause) {
    throw new HibikiError('E_IO', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  const out: Array<VocBox | VocDetection> = [];
  for (const file of files) {
    const image = basename(file, '.txt');
    readText(file).split('\n').forEach((line, n) => {
      const fields = line.trim().split(/\s+/);
      if (fields[0] === '') return;
      const numbers = fields.slice(1, withScores ? 6 : 5).map(Number);
      const expected = withScores ? 'class score x1 y1 x2 y2' : 'class x1 y1 x2 y2 [difficult]';
      if (numbers.length !== (withScores ? 5 : 4) || !numbers.every(Number.isFinite)) {
        throw badInput(`${file}:${n + 1}: expected "${expected}", got "${line.trim()}"`);
      }
      const [x1, y1, x2, y2] = withScores ? numbers.slice(1) : numbers;
      if (x2! < x1! || y2! < y1!) throw badInput(`${file}:${n + 1}: box has negative size (x2 < x1 or y2 < y1)`);
      const box = { image, class: fields[0]!, bbox: [x1!, y1!, x2! - x1!, y2! - y1!] };
      if (withScores) out.push({ ...box, score: numbers[0]! });
      else out.push({ ...box, difficult: fields[5] === 'difficult' || fields[5] === '1' });
    });
  }
  return out;
}
