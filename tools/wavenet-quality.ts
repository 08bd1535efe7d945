// Measures a pitch-conditioned WaveNet: generates a note for every pitch it
// knows and checks its fundamental (YIN) against the pitch asked for.
//
//   npx tsx tools/wavenet-quality.ts [MODEL_DIR] [--seconds 1] [--temperature 0.9] [--seed 1] [--takes 48] [--wav DIR] [--json FILE]
//   npx tsx tools/wavenet-quality.ts [MODEL_DIR] --silence 0,0.5,0.6,0.7,0.75,0.8 [--takes 4] [--json FILE]
//
// --silence: at each temperature, every pitch `takes` times (seeds 1…takes), 1 s each; counts the
// notes whose second half is one constant value (the model fell silent). A model's config.json
// "min_temperature" (below which hibiki refuses to sample) is chosen from this table; the measurement runs
// the same weights without the model's own min_temperature.
//
// Every pitch is generated `takes` times (seed + 1000·take + pitch index):
// which notes come out depends on the seed, and a score over 300 notes (12
// takes) moves by about ±2 % from one seed to another, too much to judge a
// 90 % target by; the default is 48 takes, 1,200 notes. Seeds that differ by
// a multiple of 1000 share takes; use seeds apart by less (1, 100, 200, …)
// for independent sets. Passes when ≥ 90 % of all notes are within ±2 % (a third of a semitone).
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readModelDir } from '../src/io/model-dir.js';
import { writeWav } from '../src/io/wav.js';
import { fundamentalHz, midiToHz } from '../src/metrics/pitch.js';
import { parseWaveNetConfig } from '../src/models/wavenet.js';
import { Pool } from '../src/pool/pool.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '1' },
    temperature: { type: 'string', default: '0.9' },
    seed: { type: 'string', default: '1' },
    takes: { type: 'string' },
    wav: { type: 'string' },
    json: { type: 'string' },
    silence: { type: 'string' },
  },
});
const dir = positionals[0] ?? fileURLToPath(new URL('../models/wavenet-piano', import.meta.url));
const config = parseWaveNetConfig(`${dir}/config.json`, readModelDir(dir).config);
if (config.globalName !== 'midi_pitch') throw new Error(`${dir} is not conditioned on midi_pitch`);
const samples = Math.round(Number(values.seconds) * config.sampleRate);
const takes = Number(values.takes ?? (values.silence ? 4 : 48));

if (values.silence) {
  const temperatures = values.silence.split(',').map(Number);
  // The same weights without min_temperature, so that colder requests run instead of being refused.
  const bare = mkdtempSync(join(tmpdir(), 'hibiki-silence-'));
  const { min_temperature: _, ...unbounded } = readModelDir(dir).config;
  writeFileSync(join(bare, 'config.json'), JSON.stringify(unbounded));
  symlinkSync(resolve(dir, 'model.safetensors'), join(bare, 'model.safetensors'));
  const pool = await Pool.open(bare, { workers: 2 });
  const rows = [];
  for (const temperature of temperatures) {
    const requests = Array.from({ length: takes }, (_, take) =>
      config.globalLabels.map((_, condition) => ({ samples: config.sampleRate, condition, temperature, seed: take + 1 }))).flat();
    const { outputs, failures } = await pool.run(requests);
    if (failures.length) throw failures[0]!.error;
    const silent = outputs.filter((audio) => audio!.subarray(audio!.length >> 1).every((v) => v === audio![audio!.length >> 1])).length;
    rows.push({ temperature, notes: requests.length, silent });
    console.log(`temperature ${temperature}: ${silent} of ${requests.length} notes silent (one value from 0.5 s to 1 s)`);
  }
  await pool.close();
  rmSync(bare, { recursive: true });
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ version: 1, measure: 'silence', seeds: `1…${takes}`, seconds: 1, rows }, null, 2)}\n`);
  process.exit(0);
}

const requests = Array.from({ length: takes }, (_, take) =>
  config.globalLabels.map((_, condition) => ({
    samples, condition, temperature: Number(values.temperature), seed: Number(values.seed) + 1000 * take + condition,
  })),
).flat();

const pool = await Pool.open(dir, { workers: 2 });
const started = performance.now();
const { outputs, failures } = await pool.run(requests);
const seconds = (performance.now() - started) / 1000;
await pool.close();
if (failures.length) throw failures[0]!.error;

if (values.wav) mkdirSync(values.wav, { recursive: true });
const notes = requests.map((request, i) => {
  const label = config.globalLabels[request.condition]!;
  const audio = outputs[i]!;
  // Skip the attack: measure from a quarter second in.
  const steady = audio.subarray(Math.min(audio.length >> 1, Math.round(0.25 * config.sampleRate)));
  const want = midiToHz(Number(label));
  const got = fundamentalHz(steady, { sampleRate: config.sampleRate, minHz: 50, maxHz: 1500 });
  const error = got === undefined ? Infinity : got / want - 1;
  if (values.wav) writeWav(join(values.wav, `note-${label}-seed${request.seed}.wav`), audio, config.sampleRate, 'pcm16');
  return { pitch: Number(label), seed: request.seed, wantHz: want, gotHz: got ?? null, error, ok: Math.abs(error) <= 0.02 };
});

for (const n of notes) {
  console.log(`MIDI ${n.pitch} seed ${n.seed}: want ${n.wantHz.toFixed(1)} Hz, got ${n.gotHz?.toFixed(1) ?? '—'} Hz (${Number.isFinite(n.error) ? `${(n.error * 100).toFixed(2)} %` : 'no pitch'}) ${n.ok ? 'ok' : 'OFF'}`);
}
const passed = notes.filter((n) => n.ok).length;
const fraction = passed / notes.length;
console.log(`${passed}/${notes.length} notes within ±2 % (${(fraction * 100).toFixed(0)} %; target ≥ 90 %: ${fraction >= 0.9 ? 'met' : 'MISSED'}); ` +
  `temperature ${values.temperature}; generated ${notes.length} × ${values.seconds} s in ${seconds.toFixed(1)} s on 2 workers`);
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify({ version: 1, model: dir, seconds: Number(values.seconds), temperature: Number(values.temperature), seed: Number(values.seed), takes, passed, total: notes.length, notes }, null, 2)}\n`);
}
