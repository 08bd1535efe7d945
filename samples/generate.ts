// Piano notes from a Node program: four clips of middle C generated together
// on two workers, written as WAV files, with the fundamental each one has.
//
//   npx tsx samples/generate.ts [OUT_DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, fundamentalHz, midiToHz } from 'hibiki';

const out = process.argv[2] ?? join(tmpdir(), 'hibiki-notes');
mkdirSync(out, { recursive: true });

const generator = await Generator.open(undefined, { workers: 2 }); // models/wavenet-piano
try {
  // clip i uses seed 1 + i: the same files on any number of workers
  const { clips, failures } = await generator.generate({ seconds: 1, condition: '60', count: 4, seed: 1 });
  if (failures.length) throw failures[0]!.error;
  const sampleRate = generator.config.sampleRate;
  console.log(`MIDI 60 is ${midiToHz(60).toFixed(1)} Hz`);
  clips.forEach((clip, i) => {
    const path = join(out, `c4-${i}.wav`);
    writeFileSync(path, generator.wav(clip!));
    // the note's body, past its onset
    const hz = fundamentalHz(clip!.subarray(Math.round(0.2 * sampleRate)), { sampleRate });
    console.log(`${path}: ${(clip!.length / sampleRate).toFixed(2)} s at ${sampleRate} Hz, fundamental ${hz?.toFixed(1) ?? 'none'} Hz`);
  });
} finally {
  await generator.close();
}
