import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hibiki } from '../helpers/cli.js';
import { PNG } from 'pngjs';
import { decodeImage } from '../../src/io/image.js';

const SAMPLES = fileURLToPath(new URL('../../samples/images/', import.meta.url));
// What face-api 1.7.15 itself finds on the samples: tools/face_api_reference.mjs.
const reference = JSON.parse(readFileSync(new URL('../fixtures/face/reference.json', import.meta.url), 'utf8'));


describe('hibiki detect, classify and segment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-vision-'));
  const astronaut = readFileSync(join(SAMPLES, 'astronaut.png'));
  writeFileSync(join(dir, 'truncated.png'), astronaut.subarray(0, 4000));
  writeFileSync(join(dir, 'notes.png'), 'not an image at all');

  it('detect: face-api’s faces as COCO results JSON and drawn images; a broken file fails alone', () => {
    const json = join(dir, 'faces.json');
    const drawn = join(dir, 'drawn');
    const r = hibiki('detect', join(SAMPLES, 'astronaut.png'), join(dir, 'truncated.png'), join(SAMPLES, 'astronaut-camera.jpg'), join(dir, 'notes.png'),
      '--json', json, '--draw', drawn, '-w', '2');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/truncated\.png: .*(truncated|corrupt|invalid|ended)/i);
    expect(r.stderr).toMatch(/notes\.png: not a PNG or JPEG file/);
    expect(r.stderr).toMatch(/2 images in [\d.]+ s \([\d.]+ images\/s\)/);
    const records = JSON.parse(readFileSync(json, 'utf8'));
    for (const [imageId, name] of [[1, 'astronaut'], [3, 'astronaut-camera']] as const) {
      const want = reference.images.find((i: { name: string }) => i.name === name).detections['0.5'];
      const got = records.filter((d: { image_id: number }) => d.image_id === imageId);
      expect(got).toHaveLength(want.length);
      got.forEach((d: { bbox: number[]; score: number; category_id: number }, j: number) => {
        expect(d.category_id).toBe(1);
        d.bbox.forEach((v, k) => expect(Math.abs(v - want[j].box[k])).toBeLessThan(1));
        expect(Math.abs(d.score - want[j].score)).toBeLessThan(1e-3);
      });
    }
    expect(readdirSync(drawn).sort()).toEqual(['astronaut-camera.png', 'astronaut.png']);
    const image = decodeImage(readFileSync(join(drawn, 'astronaut.png')), 'drawn');
    expect([image.width, image.height]).toEqual([512, 512]);
    // the box's left edge is drawn in green over the photo
    const [x, y, , h] = want0() as [number, number, number, number];
    const at = (px: number, py: number) => Array.from(image.data.subarray((py * 512 + px) * 3, (py * 512 + px) * 3 + 3));
    expect(at(Math.round(x), Math.round(y + h / 2))).toEqual([0, 224, 0]);
  });

  it('detect: --score and --iou reach the model; bad flags are usage errors', () => {
    const r = hibiki('detect', join(SAMPLES, 'astronaut.png'), '--score', '0.05', '-w', '0');
    const want = reference.images.find((i: { name: string }) => i.name === 'astronaut').detections['0.05'];
    expect(r.stdout).toMatch(new RegExp(`astronaut\\.png: ${want.length} faces`));
    // IoU threshold 1 suppresses nothing: every anchor above the score stays
    const all = hibiki('detect', join(SAMPLES, 'astronaut.png'), '--score', '0.05', '--iou', '1', '-w', '0');
    expect(Number(/astronaut\.png: (\d+) faces/.exec(all.stdout)![1])).toBeGreaterThan(want.length);
    expect(hibiki('detect', join(SAMPLES, 'astronaut.png'), '--score', '2').code).toBe(2);
    expect(hibiki('detect', join(SAMPLES, 'astronaut.png'), '--iou', '-1').code).toBe(2);
  });

  it('detect --json - writes the COCO JSON to stdout (what --json FILE writes) and the text lines to stderr', () => {
    const image = join(SAMPLES, 'astronaut.png');
    const file = hibiki('detect', image, '--json', join(dir, 'one.json'), '-w', '0', '-q');
    expect(file.code, file.stderr).toBe(0);
    expect(file.stderr).toBe('');
    const piped = hibiki('detect', image, '--json', '-', '-w', '0', '-q');
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toBe(readFileSync(join(dir, 'one.json'), 'utf8'));
    expect(JSON.parse(piped.stdout)).toHaveLength(reference.images.find((i: { name: string }) => i.name === 'astronaut').detections['0.5'].length);
    expect(piped.stderr).toBe(file.stdout);
    expect(piped.stderr).toMatch(/^.*astronaut\.png: \d+ faces?: /);
  });

  it('bad flags are usage errors (exit code 2), a model that is not there or not the kind a data error (exit code 1): one line, nothing written', () => {
    const image = join(SAMPLES, 'astronaut.png');
    const out = join(dir, 'nothing');
    const cases: Array<[string[], number, string]> = [
      [['detect', image, '--max-results', '0'], 2, 'option \'--max-results <n>\' argument \'0\' is invalid. --max-results must be a whole number from 1 to 100000, got "0"'],
      [['detect', image, '--draw', '-'], 2, '--draw writes one PNG per image: give a folder, not -'],
      [['detect', image, '-m', '/nonexistent', '--draw', out], 1, '--model: cannot read /nonexistent/config.json: is "/nonexistent" a model directory?'],
      [['classify', image, '-k', '0'], 2, 'option \'-k, --top <k>\' argument \'0\' is invalid. --top must be a whole number from 1 to 1000, got "0"'],
      [['classify', image, '-w', '-1'], 2, 'option \'-w, --workers <n>\' argument \'-1\' is invalid. --workers must be a whole number from 0 to 256, got "-1"'],
      [['classify', image, '-m', fileURLToPath(new URL('../fixtures/wavenet-k2/', import.meta.url))], 1,
        `--model: ${fileURLToPath(new URL('../fixtures/wavenet-k2/', import.meta.url))} is a wavenet model, not an image classifier (mobilenet_v2, densenet)`],
      [['segment', image, '-o', '-'], 2, '--output is the folder segment writes two PNGs per image to, not -'],
      [['segment', image, '-o', out, '-m', '/nonexistent'], 1, '--model: cannot read /nonexistent/config.json: is "/nonexistent" a model directory?'],
      // --out: the old spelling of -o; a folder under a file is a usage error, before any work
      [['segment', image, '--out', join(dir, 'notes.png', 'masks')], 2,
        `--output: cannot create the folder ${join(dir, 'notes.png', 'masks')}: ${join(dir, 'notes.png')} is a file, not a folder`],
    ];
    for (const [args, code, message] of cases) {
      const r = hibiki(...args);
      expect([r.code, r.stderr, r.stdout], args.join(' ')).toEqual([code, `error: ${message}\n`, '']);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('classify: each digit sample gets its own label, in process and on the pool', () => {
    const files = readdirSync(join(SAMPLES, 'digits')).filter((f) => f.endsWith('.png')).sort();
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const workers of ['0', '2']) {
      const r = hibiki('classify', ...files.map((f) => join(SAMPLES, 'digits', f)), '--json', '--top', '2', '-w', workers);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as Array<{ image: string; top: Array<{ label: string; probability: number }> }>;
      out.forEach((o, i) => {
        expect(o.top).toHaveLength(2);
        expect(o.top[0]!.label, files[i]).toBe(files[i]![0]);
        expect(o.top[0]!.probability).toBeGreaterThan(o.top[1]!.probability);
      });
    }
  });

  it('classify --min-score: a best class below it is "unsure" (the classes still listed), one above it is claimed', () => {
    // the sample 3 with a 4-pixel white margin (the model before fit_ink read it as "5" at 58.6 %), and a blank page
    const three = decodeImage(readFileSync(join(SAMPLES, 'digits', '3.png')), '3.png');
    const margin = new PNG({ width: 16, height: 16 });
    margin.data.fill(255);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) for (let k = 0; k < 3; k++) margin.data[((y + 4) * 16 + x + 4) * 4 + k] = three.data[(y * 8 + x) * 3 + k]!;
    const padded = join(dir, 'three-with-margin.png');
    writeFileSync(padded, PNG.sync.write(margin));
    const page = new PNG({ width: 16, height: 16 });
    page.data.fill(255);
    const blank = join(dir, 'blank.png');
    writeFileSync(blank, PNG.sync.write(page));
    const files = [padded, blank];
    const text = hibiki('classify', ...files, '--min-score', '0.9', '-k', '2', '-w', '0');
    expect(text.code, text.stderr).toBe(0);
    const [sure, unsure] = text.stdout.trim().split('\n');
    expect(sure).toMatch(/three-with-margin\.png: 3 (99\.\d|100\.0)%, \d [\d.]+%$/);
    expect(unsure).toMatch(/blank\.png: unsure \(\d [1-8]\d\.\d%, \d [\d.]+%\)$/);
    const json = JSON.parse(hibiki('classify', ...files, '--min-score', '0.9', '--json', '-w', '0').stdout) as Array<{ unsure: boolean; top: Array<{ probability: number }> }>;
    expect(json.map((r) => r.unsure)).toEqual([false, true]);
    expect(json[1]!.top[0]!.probability).toBeLessThan(0.9);
    // without the flag nothing is unsure, and the JSON has no such key
    expect(JSON.parse(hibiki('classify', blank, '--json', '-w', '0').stdout)[0]).not.toHaveProperty('unsure');
  });

  it('segment: mask and overlay PNGs per image whose colours agree with the held-out label maps', () => {
    const files = [0, 1, 2, 3].map((i) => join(SAMPLES, 'shapes', `shapes-${i}.png`));
    const out = join(dir, 'segmented');
    const r = hibiki('segment', ...files, join(dir, 'notes.png'), '-o', out, '-w', '2');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/notes\.png: not a PNG or JPEG file/);
    let same = 0;
    let total = 0;
    for (const i of [0, 1, 2, 3]) {
      expect(r.stdout).toMatch(new RegExp(`shapes-${i}\\.png: background [\\d.]+%`));
      const mask = decodeImage(readFileSync(join(out, `shapes-${i}-mask.png`)), 'mask');
      const truth = decodeImage(readFileSync(join(SAMPLES, 'shapes', `shapes-${i}-labels.png`)), 'labels'); // the same palette
      expect(existsSync(join(out, `shapes-${i}-overlay.png`))).toBe(true);
      for (let p = 0; p < mask.width * mask.height; p++, total++) {
        if ([0, 1, 2].every((c) => mask.data[3 * p + c] === truth.data[3 * p + c])) same++;
      }
    }
    expect(same / total).toBeGreaterThan(0.97);
  });

  function want0(): number[] {
    return reference.images.find((i: { name: string }) => i.name === 'astronaut').detections['0.5'][0].box;
  }

  it('refuses an image whose header claims an absurd size, before decoding it', () => {
    // a PNG header claiming 100000 × 100000 pixels
    const header = Buffer.from(astronaut.subarray(0, 33));
    header.writeUInt32BE(100000, 16);
    header.writeUInt32BE(100000, 20);
    writeFileSync(join(dir, 'huge.png'), header);
    const r = hibiki('classify', join(dir, 'huge.png'), join(SAMPLES, 'digits', '3.png'), '-w', '0');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/huge\.png: .*100000/);
    expect(r.stdout).toMatch(/3\.png: 3 /);
    expect(existsSync(join(dir, 'huge.png'))).toBe(true);
  });
});
