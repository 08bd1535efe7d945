// Measures a pitch-conditioned WaveNet as a listener would judge its notes:
// generates every pitch it knows, several takes each, and compares each note
// with fluidsynth's render of the same note (the instrument it learnt).
//
//   npx tsx tools/wavenet-quality.ts [MODEL_DIR] [--seconds 5] [--temperature T] [--min-p P] [--seed 1] [--takes 4]
//                                    [--no-prompt] [--plot DIR] [--wav DIR] [--json FILE]
//   npx tsx tools/wavenet-quality.ts [MODEL_DIR] --silence 0,0.5,0.6,0.7,0.75,0.8 [--takes 4] [--json FILE]
//
// Per note, in 0.25 s windows (YIN for the pitch, RMS for the level):
//  - in tune: every window in which the render still sounds (≥ −40 dBFS, its own pitch within ±2 %)
//    has the generated note's fundamental within ±2 % (a third of a semitone) of the pitch asked for;
//  - hiss: windows in which the render sounds and the generated note has no period at all;
//  - envelope: the level at 3 s relative to 0.5 s, against the render's (within ±6 dB counts);
//  - harmonic-to-noise ratio over 0.25–1 s: the energy of the partials against the rest of the
//    spectrum (see hnrDb), the render's beside it.
// Targets (issue 24): ≥ 90 % of notes in tune with no hiss window, ≥ 80 % of envelopes within ±6 dB,
// median HNR ≥ 25 dB. Renders are peak-normalised to 0.9 as training's were, with the soundfont
// training took each pitch from (the model's training.json).
//
// --no-prompt: every note from silence, without the model's pitch prompt (config.json "pitch_prompt").
// --min-p: sample with this min-p instead of the model's (config.json "min_p", for notes that start from
// the pitch prompt; 0 keeps every class).
//
// Takes: note k of pitch p uses seed + 1000·k + p's index. Checkpoints were chosen with --seed 500;
// figures are reported with --seed 1 (seeds neither training nor selection used).
//
// --plot DIR: one PNG per pitch, the first take's spectrogram above the render's.
// --silence: at each temperature, every pitch `takes` times (seeds 1…takes), 1 s each; counts the
// notes whose second half is one constant value (the model fell silent). A model's config.json
// "min_temperature" (below which hibiki refuses to sample) is chosen from this table; the measurement
// runs the same weights without the model's own min_temperature.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as PImage from 'pureimage';
import wavefile from 'wavefile';
import { FONT, encodePng, loadFont } from '../src/io/canvas.js';
import { readModelDir } from '../src/io/model-dir.js';
import { writeWav } from '../src/io/wav.js';
import { fundamentalHz, midiToHz } from '../src/metrics/pitch.js';
import { MIDI_PITCH, parseWaveNetConfig, requestMinP } from '../src/models/wavenet.js';
import { Pool } from '../src/pool/pool.js';
import { GENERATE_DEFAULTS } from '../src/tasks/defaults.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '5' },
    temperature: { type: 'string' },
    'min-p': { type: 'string' },
    seed: { type: 'string', default: '1' },
    takes: { type: 'string', default: '4' },
    wav: { type: 'string' },
    plot: { type: 'string' },
    json: { type: 'string' },
    silence: { type: 'string' },
    workers: { type: 'string', default: '2' },
    'no-prompt': { type: 'boolean', default: false },
  },
});
const dir = positionals[0] ?? fileURLToPath(new URL('../models/wavenet-piano', import.meta.url));
const modelConfig = readModelDir(dir).config;
const config = parseWaveNetConfig(`${dir}/config.json`, modelConfig);
if (config.globalName !== MIDI_PITCH) throw new Error(`${dir} is not conditioned on ${MIDI_PITCH}`);
const sr = config.sampleRate;
const takes = Number(values.takes);
const workers = Number(values.workers);
const prompt = values['no-prompt'] ? { prompt: false } : {};
const askedMinP = values['min-p'] === undefined ? {} : { minP: Number(values['min-p']) };
// The min-p the notes are drawn with (the model's unless --min-p; 0 from silence), for the printout and the JSON.
const minP = requestMinP(config, { ...askedMinP, ...prompt });
// The prompt the notes start from, if any (for the printout, the plots' labels and the JSON).
const usedPrompt = values['no-prompt'] ? undefined : config.pitchPrompt;

// ---------------------------------------------------------------------------
// Silence by temperature
// ---------------------------------------------------------------------------
if (values.silence) {
  const temperatures = values.silence.split(',').map(Number);
  // The same weights without min_temperature, so that colder requests run instead of being refused.
  const bare = mkdtempSync(join(tmpdir(), 'hibiki-silence-'));
  const { min_temperature: _, ...unbounded } = modelConfig;
  writeFileSync(join(bare, 'config.json'), JSON.stringify(unbounded));
  symlinkSync(resolve(dir, 'model.safetensors'), join(bare, 'model.safetensors'));
  const pool = await Pool.open(bare, { workers });
  const rows = [];
  for (const temperature of temperatures) {
    const requests = Array.from({ length: takes }, (_, take) =>
      config.globalLabels.map((_, condition) => ({ samples: sr, condition, temperature, ...askedMinP, seed: take + 1, ...prompt }))).flat();
    const { outputs, failures } = await pool.run(requests);
    if (failures.length) throw failures[0]!.error;
    const silent = outputs.filter((audio) => audio!.subarray(audio!.length >> 1).every((v) => v === audio![audio!.length >> 1])).length;
    rows.push({ temperature, notes: requests.length, silent });
    console.log(`temperature ${temperature}: ${silent} of ${requests.length} notes silent (one value from 0.5 s to 1 s)`);
  }
  await pool.close();
  rmSync(bare, { recursive: true });
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ version: 2, measure: 'silence', seeds: `1…${takes}`, seconds: 1, minP, prompt: usedPrompt ?? null, rows }, null, 2)}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------------------
// The instrument: fluidsynth renders, as training made them
// ---------------------------------------------------------------------------
const FLUID_R3 = '/usr/share/sounds/sf2/FluidR3_GM.sf2';

/** {pitch: soundfont} from the model's training.json (the last stage that records one), else FluidR3 GM throughout. */
function soundfonts(): Record<string, string> {
  const file = join(dir, 'training.json');
  if (!existsSync(file)) return {};
  let found: Record<string, string> = {};
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'soundfont_per_pitch' && value && typeof value === 'object') found = Object.values(value)[0] as Record<string, string>;
      else visit(value);
    }
  };
  visit(JSON.parse(readFileSync(file, 'utf8')));
  return found;
}

/** A one-note standard MIDI file: program 0, the key held `seconds` (480 ticks per quarter at 120 bpm). */
function midiNote(pitch: number, seconds: number, velocity = 100): Uint8Array {
  const vlq = (n: number) => {
    const out = [n & 0x7f];
    for (n >>= 7; n; n >>= 7) out.push((n & 0x7f) | 0x80);
    return out.reverse();
  };
  const events = [...vlq(0), 0xc0, 0, ...vlq(0), 0x90, pitch, velocity, ...vlq(Math.round(seconds * 960)), 0x80, pitch, 0, ...vlq(480), 0xff, 0x2f, 0];
  const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return Uint8Array.from([...Buffer.from('MThd'), ...u32(6), 0, 0, 0, 1, 1, 224, ...Buffer.from('MTrk'), ...u32(events.length), ...events]);
}

/** fluidsynth's render of `pitch` held for `seconds`, mono, peak-normalised to 0.9 (as training's notes). */
function render(pitch: number, seconds: number, soundfont: string, tmp: string): Float32Array {
  const mid = join(tmp, `${pitch}.mid`);
  const wav = join(tmp, `${pitch}.wav`);
  writeFileSync(mid, midiNote(pitch, seconds));
  execFileSync('fluidsynth', ['-ni', '-g', '1.0', '-r', String(sr), '-F', wav, soundfont, mid], { stdio: 'ignore' });
  const file = new wavefile.WaveFile(readFileSync(wav));
  file.toBitDepth('32f');
  const channels = file.getSamples(false, Float64Array) as unknown as Float64Array[] | Float64Array;
  const list = Array.isArray(channels) ? channels : [channels];
  const n = Math.round(seconds * sr);
  const mono = new Float32Array(n);
  for (let i = 0; i < n; i++) mono[i] = list.reduce((sum, ch) => sum + (ch[i] ?? 0), 0) / list.length;
  const peak = mono.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return mono.map((v) => (0.9 * v) / peak);
}

// ---------------------------------------------------------------------------
// Measures
// ---------------------------------------------------------------------------
const WINDOW = 0.25; // seconds
const SOUNDING_DB = -40;

const rmsDb = (x: Float32Array) => 10 * Math.log10(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length) + 1e-20);
const windowAt = (x: Float32Array, seconds: number) => x.subarray(Math.round(seconds * sr), Math.round((seconds + WINDOW) * sr));

/** In place: the discrete Fourier transform of (re, im), length a power of two (radix 2; a tool, not the engine). */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) { // bit reversal
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const step = (-2 * Math.PI) / size;
    for (let i = 0; i < n; i += size) {
      for (let k = 0; k < size >> 1; k++) {
        const [wr, wi] = [Math.cos(step * k), Math.sin(step * k)];
        const [a, b] = [i + k, i + k + (size >> 1)];
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}

/** |DFT|² of x[start, start + window.length) times the window: bins 0 … n/2. */
function powerSpectrum(x: Float32Array, start: number, window: Float64Array): Float64Array {
  const n = window.length;
  const re = Float64Array.from({ length: n }, (_, i) => (x[start + i] ?? 0) * window[i]!);
  const im = new Float64Array(n);
  fft(re, im);
  return Float64Array.from({ length: (n >> 1) + 1 }, (_, k) => re[k]! ** 2 + im[k]! ** 2);
}

const HNR_FRAME = 1024;
/** 4-term Blackman–Harris: sidelobes at −92 dB, so the noise floor between partials is not their leakage. */
const BLACKMAN_HARRIS = Float64Array.from({ length: HNR_FRAME }, (_, i) => {
  const w = (2 * Math.PI * i) / HNR_FRAME;
  return 0.35875 - 0.48829 * Math.cos(w) + 0.14128 * Math.cos(2 * w) - 0.01168 * Math.cos(3 * w);
});

/**
 * The harmonic-to-noise ratio (dB) from `from` to `to` seconds of a note at `hz`: in 128 ms frames
 * (Blackman–Harris, half overlapping), the energy within ±4 bins (the window's main lobe) of each
 * partial against all the rest above 2 bins. Partials are found one by one, each the peak within
 * ±0.3·hz of the previous one plus hz, so a piano's stretched upper partials count as harmonic.
 */
function hnrDb(x: Float32Array, hz: number, from: number, to: number): number {
  const binHz = sr / HNR_FRAME;
  let harmonic = 0;
  let noise = 0;
  for (let start = Math.round(from * sr); start + HNR_FRAME <= Math.min(Math.round(to * sr), x.length); start += HNR_FRAME >> 1) {
    const power = powerSpectrum(x, start, BLACKMAN_HARRIS);
    const partial = new Uint8Array(power.length);
    for (let previous = 0; ;) {
      const lo = Math.max(1, Math.floor((previous + 0.7 * hz) / binHz));
      const hi = Math.ceil((previous + 1.3 * hz) / binHz);
      if (hi >= power.length - 1) break;
      let peak = lo;
      for (let k = lo; k <= hi; k++) if (power[k]! > power[peak]!) peak = k;
      partial.fill(1, Math.max(0, peak - 4), Math.min(power.length, peak + 5));
      previous = peak * binHz;
    }
    power.forEach((p, k) => {
      if (partial[k]) harmonic += p;
      else if (k > 2) noise += p;
    });
  }
  return 10 * Math.log10((harmonic + 1e-30) / (noise + 1e-30));
}

interface WindowMeasure { start: number; db: number; renderDb: number; hz: number | null; renderHz: number | null; ok: boolean }

function measure(audio: Float32Array, reference: Float32Array, pitch: number) {
  const want = midiToHz(pitch);
  const windows: WindowMeasure[] = [];
  const inTune = (hz: number | undefined) => hz !== undefined && Math.abs(hz / want - 1) <= 0.02;
  for (let start = 0; start + WINDOW <= audio.length / sr + 1e-9; start += WINDOW) {
    const got = fundamentalHz(windowAt(audio, start), { sampleRate: sr, minHz: 50, maxHz: 1500 });
    const renderHz = fundamentalHz(windowAt(reference, start), { sampleRate: sr, minHz: 50, maxHz: 1500 });
    windows.push({
      start, db: rmsDb(windowAt(audio, start)), renderDb: rmsDb(windowAt(reference, start)), hz: got ?? null, renderHz: renderHz ?? null,
      ok: inTune(got),
    });
  }
  // The windows judged: where the render still sounds (≥ −40 dBFS) and is itself in tune (YIN finds
  // no pitch in some renders' first window, the hammer's strike).
  const sounding = windows.filter((w) => w.renderDb >= SOUNDING_DB && inTune(w.renderHz ?? undefined));
  const hiss = sounding.filter((w) => w.hz === null).length;
  const level = (x: Float32Array) => rmsDb(windowAt(x, 3)) - rmsDb(windowAt(x, 0.5));
  const long = audio.length >= (3 + WINDOW) * sr;
  const envelope = long ? level(audio) : null;
  const renderEnvelope = long ? level(reference) : null;
  return {
    inTune: sounding.every((w) => w.ok),
    soundingWindows: sounding.length,
    offWindows: sounding.filter((w) => !w.ok).length,
    hissWindows: hiss,
    envelopeDb: envelope,
    renderEnvelopeDb: renderEnvelope,
    envelopeOk: envelope === null ? null : Math.abs(envelope - renderEnvelope!) <= 6,
    hnrDb: hnrDb(audio, want, 0.25, 1),
    renderHnrDb: hnrDb(reference, want, 0.25, 1),
    windows,
  };
}

// ---------------------------------------------------------------------------
// Spectrograms
// ---------------------------------------------------------------------------
const FFT = 256;
const HOP = 64;

const HANN = Float64Array.from({ length: FFT }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FFT));

/** Magnitudes in dB, [frames][FFT / 2] (Hann window; 0 dB a full-scale sine). */
function spectrogram(x: Float32Array): Float64Array[] {
  const frames: Float64Array[] = [];
  for (let start = 0; start + FFT <= x.length; start += HOP) {
    const power = powerSpectrum(x, start, HANN);
    frames.push(Float64Array.from({ length: FFT >> 1 }, (_, k) => 10 * Math.log10(power[k]! / (FFT / 4) ** 2 + 1e-12)));
  }
  return frames;
}

/** Dark blue → red → yellow → white over [−90, 0] dB. */
function heat(db: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, (db + 90) / 90));
  const stops: Array<[number, number, number]> = [[0, 0, 30], [120, 0, 120], [230, 60, 0], [255, 220, 0], [255, 255, 255]];
  const at = v * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(at));
  const f = at - i;
  return stops[i]!.map((c, k) => Math.round(c + f * (stops[i + 1]![k]! - c))) as [number, number, number];
}

function plot(path: string, title: string, panels: Array<{ label: string; audio: Float32Array }>): void {
  loadFont();
  const specs = panels.map((p) => spectrogram(p.audio));
  const [left, top, bins, gap] = [8, 26, FFT >> 1, 24];
  const width = left * 2 + Math.max(...specs.map((s) => s.length));
  const height = top + panels.length * (bins + gap);
  const image = PImage.make(width, height);
  const ctx = image.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  specs.forEach((frames, p) => {
    const y0 = top + p * (bins + gap) + gap - 6;
    frames.forEach((frame, x) => {
      for (let k = 0; k < bins; k++) {
        const [r, g, b] = heat(frame[k]!);
        const at = ((y0 + bins - 1 - k) * width + left + x) * 4; // low frequencies at the bottom
        image.data.set([r, g, b, 255], at);
      }
    });
    ctx.fillStyle = '#000000';
    ctx.font = `12px '${FONT}'`;
    ctx.fillText(panels[p]!.label, left, y0 - 4);
  });
  ctx.font = `14px '${FONT}'`;
  ctx.fillText(title, left, 16);
  writeFileSync(path, encodePng(image));
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------
const seconds = Number(values.seconds);
const samples = Math.round(seconds * sr);
const temperature = values.temperature === undefined ? Math.max(GENERATE_DEFAULTS.temperature, config.minTemperature) : Number(values.temperature);
const requests = Array.from({ length: takes }, (_, take) =>
  config.globalLabels.map((_, condition) => ({ samples, condition, temperature, ...askedMinP, seed: Number(values.seed) + 1000 * take + condition, ...prompt })),
).flat();

const pool = await Pool.open(dir, { workers });
const started = performance.now();
const { outputs, failures } = await pool.run(requests);
const elapsed = (performance.now() - started) / 1000;
await pool.close();
if (failures.length) throw failures[0]!.error;

const fonts = soundfonts();
const tmp = mkdtempSync(join(tmpdir(), 'hibiki-render-'));
const renders = new Map(config.globalLabels.map((label) => [label, render(Number(label), seconds, fonts[label] ?? FLUID_R3, tmp)]));
rmSync(tmp, { recursive: true });

if (values.wav) mkdirSync(values.wav, { recursive: true });
if (values.plot) mkdirSync(values.plot, { recursive: true });
const notes = requests.map((request, i) => {
  const label = config.globalLabels[request.condition]!;
  const audio = outputs[i]!;
  if (values.wav) writeWav(join(values.wav, `note-${label}-seed${request.seed}.wav`), audio, sr, 'pcm16');
  return { pitch: Number(label), seed: request.seed, ...measure(audio, renders.get(label)!, Number(label)) };
});
if (values.plot) {
  for (const label of config.globalLabels) {
    const first = requests.findIndex((r) => config.globalLabels[r.condition] === label);
    plot(join(values.plot, `pitch-${label}.png`), `MIDI ${label}: ${seconds} s at temperature ${temperature}, min-p ${minP} (seed ${requests[first]!.seed}); 0–${sr / 2} Hz, −90…0 dB`, [
      { label: `generated by hibiki (${usedPrompt ? 'after its pitch prompt' : 'from silence'})`, audio: outputs[first]! },
      { label: 'fluidsynth render (the instrument)', audio: renders.get(label)! },
    ]);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const n of notes) {
  console.log(`MIDI ${n.pitch} seed ${n.seed}: ${n.inTune ? 'in tune' : `OFF in ${n.offWindows}/${n.soundingWindows} windows`}` +
    `${n.hissWindows ? ` (${n.hissWindows} hiss)` : ''}; envelope 0.5→3 s ${n.envelopeDb?.toFixed(1) ?? '—'} dB ` +
    `(render ${n.renderEnvelopeDb?.toFixed(1) ?? '—'}); HNR ${n.hnrDb.toFixed(1)} dB (render ${n.renderHnrDb.toFixed(1)})`);
}
const inTune = notes.filter((n) => n.inTune && n.hissWindows === 0).length;
const withEnvelope = notes.filter((n) => n.envelopeOk !== null);
const envelopeOk = withEnvelope.filter((n) => n.envelopeOk).length;
const hissy = notes.filter((n) => n.hissWindows > 0).length;
const summary = {
  notes: notes.length,
  inTune,
  inTuneFraction: inTune / notes.length,
  notesWithHiss: hissy,
  hissWindows: notes.reduce((s, n) => s + n.hissWindows, 0),
  soundingWindows: notes.reduce((s, n) => s + n.soundingWindows, 0),
  envelopeOk,
  envelopeFraction: withEnvelope.length ? envelopeOk / withEnvelope.length : null,
  medianHnrDb: median(notes.map((n) => n.hnrDb)),
  medianRenderHnrDb: median(notes.map((n) => n.renderHnrDb)),
  realTimeFactor: (notes.length * seconds) / elapsed / workers,
};
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
console.log(`in tune in every sounding window, no hiss: ${inTune}/${notes.length} (${(summary.inTuneFraction * 100).toFixed(0)} %; target ≥ 90 %: ${verdict(summary.inTuneFraction >= 0.9)}); ` +
  `${summary.hissWindows} hiss windows of ${summary.soundingWindows} sounding`);
if (summary.envelopeFraction !== null) {
  console.log(`envelope (3 s vs 0.5 s) within ±6 dB of the render's: ${envelopeOk}/${withEnvelope.length} (${(summary.envelopeFraction * 100).toFixed(0)} %; target ≥ 80 %: ${verdict(summary.envelopeFraction >= 0.8)})`);
}
console.log(`median HNR 0.25–1 s: ${summary.medianHnrDb.toFixed(1)} dB (target ≥ 25: ${verdict(summary.medianHnrDb >= 25)}; the renders' ${summary.medianRenderHnrDb.toFixed(1)} dB)`);
console.log(`temperature ${temperature}, min-p ${minP}; ${usedPrompt ? `pitch prompt ${usedPrompt.samples} samples at ${usedPrompt.amplitude}` : 'no prompt'}; generated ${notes.length} × ${seconds} s in ${elapsed.toFixed(1)} s on ${workers} workers (${summary.realTimeFactor.toFixed(2)}× real time per worker)`);
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify({
    version: 3, model: dir, seconds, temperature, minP, seed: Number(values.seed), takes, prompt: usedPrompt ?? null, summary,
    notes: notes.map(({ windows, ...n }) => ({ ...n, windows: windows.map((w) => [w.start, Number(w.db.toFixed(1)), Number(w.renderDb.toFixed(1)), w.hz && Number(w.hz.toFixed(1)), w.renderHz && Number(w.renderHz.toFixed(1))]) })),
  }, null, 2)}\n`);
}
