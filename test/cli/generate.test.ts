import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWav } from '../../src/io/wav.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const MODEL = fileURLToPath(new URL('../fixtures/wavenet-k2/', import.meta.url));

function hibiki(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

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

  it('writes 32-bit float WAV with --format f32', () => {
    const r = hibiki('generate', '-m', MODEL, '-s', '0.1', '-c', 'low', '--format', 'f32', '-w', '0', '-o', join(dir, 'f.wav'));
    expect(r.code, r.stderr).toBe(0);
    const bytes = readFileSync(join(dir, 'f.wav'));
    expect(bytes.readUInt16LE(20)).toBe(3); // WAVE_FORMAT_IEEE_FLOAT
    expect(bytes.readUInt16LE(34)).toBe(32);
    expect(readWav(join(dir, 'f.wav')).samples.length).toBe(800);
  });

  it('refuses bad flags with one line and exit code 2, writing nothing', () => {
    const before = readdirSync(dir).length;
    const cases: Array<[string[], RegExp]> = [
      [['-s', '-3'], /--seconds must be a number from 0\.001 to 3600, got "-3"/],
      [['-s', '1e9'], /--seconds must be a number from 0\.001 to 3600/],
      [['-c', 'C9'], /unknown condition "C9" \(condition: low, mid, high\)/],
      [['-o', '/nonexistent/dir/x.wav'], /cannot write \/nonexistent\/dir\/x\.wav/],
      [['-n', '2.5'], /--count must be a whole number/],
      [['--format', 'mp3'], /--format must be pcm16 or f32/],
      [['-m', '/nonexistent-model'], /--model: cannot read .*config\.json/],
    ];
    for (const [args, message] of cases) {
      const r = hibiki('generate', '-m', MODEL, '-o', join(dir, 'bad.wav'), ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(message);
    }
    expect(readdirSync(dir).length).toBe(before);
    expect(existsSync(join(dir, 'bad.wav'))).toBe(false);
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
  });
});
