import { fileURLToPath } from 'node:url';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav, readWav } from '../../src/io/wav.js';
import { hibiki, hibikiBytes } from '../helpers/cli.js';

const MODEL = fileURLToPath(new URL('../fixtures/wavenet-k2/', import.meta.url));

describe('hibiki generate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-generate-'));

  it('writes one WAV per stream, the same bits whatever the worker count', () => {
    const inProcess = hibiki('generate', '-m', MODEL, '-s', '0.25', '-n', '3', '-c', 'high', '--seed', '7', '-w', '0', '-o', join(dir, 'a.wav'));
    expect(inProcess.code, inProcess.stderr).toBe(0);
    expect(inProcess.stdout.trim().split('\n')).toEqual([1, 2, 3].map((i) => `${join(dir, `a-${i}.wav`)}: 0.25 s at 8000 Hz condition=high`));
    const pooled = hibiki('generate', '-m', MODEL, '-s', '0.25', '-n', '3', '-c', 'high', '--seed', '7', '-w', '2', '-o', join(dir, 'b.wav'));
    expect(pooled.code, pooled.stderr).toBe(0);
    for (const i of [1, 2, 3]) {
      const a = readFileSync(join(dir, `a-${i}.wav`));
      expect(a.equals(readFileSync(join(dir, `b-${i}.wav`))), `file ${i}`).toBe(true);
      const { samples, sampleRate } = readWav(join(dir, `a-${i}.wav`));
      expect(sampleRate).toBe(8000);
      expect(samples.length).toBe(2000);
    }
    // different seeds, different audio
    expect(readFileSync(join(dir, 'a-1.wav')).equals(readFileSync(join(dir, 'a-2.wav')))).toBe(false);
  });

  it('temperature-0-silence: the piano model refuses temperatures below its min_temperature from silence; a model without one says so when a clip comes out silent', () => {
    const piano = fileURLToPath(new URL('../../models/wavenet-piano', import.meta.url));
    const refused = hibiki('generate', '-m', piano, '-s', '0.3', '-c', '60', '-t', '0', '--no-prompt', '-o', join(dir, 'refused.wav'), '-w', '0');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('error: temperature 0 is below 0.5, this model\'s min_temperature: sampled colder, its notes fall into silence ' +
      '(every sample one value); use 0.5 to 10, or its pitch prompt (leave prompt on), which keeps a note sounding at any temperature\n');
    expect(existsSync(join(dir, 'refused.wav'))).toBe(false);
    // with its pitch prompt, greedy decoding is allowed and the note sounds (MIDI 64, silent from silence below)
    const prompted = hibiki('generate', '-m', piano, '-s', '0.3', '-c', '64', '-t', '0', '-o', join(dir, 'greedy-prompted.wav'), '-w', '0');
    expect(prompted.code, prompted.stderr).toBe(0);
    expect(prompted.stdout).toBe(`${join(dir, 'greedy-prompted.wav')}: 0.30 s at 8000 Hz midi_pitch=64 (E4)\n`);
    expect(prompted.stderr).not.toMatch(/silent/);
    expect(new Set(readWav(join(dir, 'greedy-prompted.wav')).samples).size).toBeGreaterThan(50);
    // the same weights without min_temperature, started from silence (--no-prompt): greedy decoding is allowed, and
    // falls silent (MIDI 64 does; 60 sounds)
    const bare = join(dir, 'piano-bare');
    mkdirSync(bare);
    const { min_temperature: _, ...config } = JSON.parse(readFileSync(join(piano, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(bare, 'config.json'), JSON.stringify(config));
    copyFileSync(join(piano, 'model.safetensors'), join(bare, 'model.safetensors'));
    const out = join(dir, 'greedy.wav');
    const r = hibiki('generate', '-m', bare, '-s', '0.3', '-c', '64', '-t', '0', '--no-prompt', '-o', out, '-w', '0');
    expect(r.code, r.stderr).toBe(0);
    const samples = Array.from(readWav(out).samples);
    expect(new Set(samples).size).toBe(1); // written as asked: every sample the same
    expect(r.stderr).toMatch(/^warning: .*greedy\.wav is silent \(every sample is -?\d\.\d{4}\): sampled this cold \(--temperature 0\), a WaveNet can fall into silence; try a higher --temperature\n$/m);
    const sampled = hibiki('generate', '-m', piano, '-s', '0.3', '-c', '60', '-t', '0.9', '-o', join(dir, 'sampled.wav'), '-w', '0');
    expect(sampled.stderr).not.toMatch(/silent/);
  });

  it("samples with the model's min-p unless --min-p names another, and says which in the WAV's comment", () => {
    const piano = fileURLToPath(new URL('../../models/wavenet-piano', import.meta.url));
    const comments = [[], ['--min-p', '0'], ['--no-prompt']].map((flags, i) => {
      const out = join(dir, `min-p${i}.wav`);
      const r = hibiki('generate', '-m', piano, '-s', '0.1', '-c', 'C4', '-w', '0', '-o', out, ...flags);
      expect(r.code, r.stderr).toBe(0);
      return readFileSync(out).toString('latin1').match(/ICMT.{4}([^\0]*)/s)![1];
    });
    // from silence (--no-prompt) the piano draws from every class
    expect(comments).toEqual([0.3, 0, 0].map((p) => `${piano} midi_pitch=60 (C4) temperature=0.9 min_p=${p} seed=1`));
    expect(readFileSync(join(dir, 'min-p0.wav')).equals(readFileSync(join(dir, 'min-p1.wav')))).toBe(false);
  });

  it('writes 32-bit float WAV with --format f32: an 18-byte fmt chunk and a fact chunk', () => {
    const r = hibiki('generate', '-m', MODEL, '-s', '0.1', '-c', 'low', '--format', 'f32', '-w', '0', '-o', join(dir, 'f.wav'));
    expect(r.code, r.stderr).toBe(0);
    const bytes = readFileSync(join(dir, 'f.wav'));
    expect(bytes.readUInt32LE(16)).toBe(18);
    expect(bytes.readUInt16LE(20)).toBe(3); // WAVE_FORMAT_IEEE_FLOAT
    expect(bytes.readUInt16LE(34)).toBe(32);
    expect(bytes.readUInt16LE(36)).toBe(0); // cbSize
    expect([bytes.toString('latin1', 38, 42), bytes.readUInt32LE(46)]).toEqual(['fact', 800]);
    expect(readWav(join(dir, 'f.wav')).samples.length).toBe(800);
  });

  it('-o - writes the WAV to stdout (the same bytes as the file) and says what it wrote on stderr', () => {
    const args = ['generate', '-m', MODEL, '-s', '0.1', '-c', 'mid', '--seed', '3', '-w', '0', '-q'];
    const file = hibiki(...args, '-o', join(dir, 'same.wav'));
    expect(file.code, file.stderr).toBe(0);
    const piped = hibikiBytes({}, ...args, '-o', '-');
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout.equals(readFileSync(join(dir, 'same.wav')))).toBe(true);
    expect(decodeWav(piped.stdout, 'stdout').samples.length).toBe(800);
    expect(piped.stderr).toBe('stdout: 0.10 s at 8000 Hz condition=mid\n');
    // the old spelling of -o still works
    const old = hibiki(...args, '--out', join(dir, 'old.wav'));
    expect(old.code, old.stderr).toBe(0);
    expect(readFileSync(join(dir, 'old.wav')).equals(readFileSync(join(dir, 'same.wav')))).toBe(true);
  });

  it('refuses bad flags with one line and exit code 2, writing nothing', () => {
    const before = readdirSync(dir).length;
    const cases: Array<[string[], string]> = [
      [['-s', '-3'], 'option \'-s, --seconds <s>\' argument \'-3\' is invalid. --seconds must be a number from 0.001 to 3600, got "-3"'],
      [['-s', '1e9'], 'option \'-s, --seconds <s>\' argument \'1e9\' is invalid. --seconds must be a number from 0.001 to 3600, got "1e9"'],
      [['-c', 'C9'], 'unknown condition "C9" (condition: low, mid, high)'],
      [['-n', '2.5'], 'option \'-n, --count <n>\' argument \'2.5\' is invalid. --count must be a whole number from 1 to 1000, got "2.5"'],
      [['--min-p', '2'], 'option \'--min-p <p>\' argument \'2\' is invalid. --min-p must be a number from 0 to 1, got "2"'],
      [['--format', 'mp3'], 'option \'--format <format>\' argument \'mp3\' is invalid. --format must be one of pcm16, f32, got "mp3"'],
      [['-n', '3', '-o', '-'], '-o - writes one WAV file to stdout; with --count 3 give a file name (NAME-1.wav, NAME-2.wav, …)'],
      [['-q', 'redis://127.0.0.1:6379'], '-q means --quiet; give the queue as --queue redis://127.0.0.1:6379'],
      [['--queue', 'http://x'], '--queue http://x: expected a redis:// or rediss:// URL, got http:'],
    ];
    for (const [args, message] of cases) {
      const r = hibiki('generate', '-m', MODEL, '-o', join(dir, 'bad.wav'), ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`^error: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`));
      expect(r.stdout).toBe('');
    }
    expect(readdirSync(dir).length).toBe(before);
    expect(existsSync(join(dir, 'bad.wav'))).toBe(false);
  });

  it('a model that is not there is a data error (exit code 1), an output folder that is not there a usage error (exit code 2): writing nothing', () => {
    const before = readdirSync(dir).length;
    const cases: Array<[string[], number, string]> = [
      [['-m', '/nonexistent-model'], 1, 'error: --model: cannot read /nonexistent-model/config.json: is "/nonexistent-model" a model directory?\n'],
      [['-o', '/nonexistent/dir/x.wav'], 2, 'error: --output: cannot write /nonexistent/dir/x.wav: the folder /nonexistent/dir does not exist\n'],
    ];
    for (const [args, code, line] of cases) {
      const r = hibiki('generate', '-m', MODEL, '-o', join(dir, 'bad.wav'), ...args);
      expect([r.code, r.stderr, r.stdout], args.join(' ')).toEqual([code, line, '']);
    }
    expect(readdirSync(dir).length).toBe(before);
  });
});

describe('hibiki info', () => {
  it('reports the receptive field', () => {
    const r = hibiki('info', MODEL, '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.architecture).toBe('wavenet');
    expect(info.receptiveField).toEqual({ samples: 31, milliseconds: 3.875 });
    expect(info.conditions).toEqual({ name: 'condition', labels: ['low', 'mid', 'high'] });
    expect(info.temperature).toEqual({ default: 0.9, min: 0 });
    expect(info.pitchPrompt).toBeUndefined();
    expect(info.minP).toBe(0);
    // the piano's own: its temperature floor (for notes from silence) and pitch prompt
    const piano = JSON.parse(hibiki('info', fileURLToPath(new URL('../../models/wavenet-piano', import.meta.url)), '--json').stdout);
    expect(piano.temperature).toEqual({ default: 0.9, min: 0.5 });
    expect(piano.pitchPrompt).toEqual({ samples: 400, amplitude: 0.03 });
    expect(piano.minP).toBe(0.3);
  });
});
