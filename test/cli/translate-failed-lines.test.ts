// A line the model refuses (too long) in `hibiki translate` (issue 21): the
// job used to fail with "rerun with --resume after fixing them", and a fixed
// input was then refused as another job. Now the line is an empty line in the
// output, named on stderr by its line number from 1, the others are written,
// and the command exits 1: the same locally, on the pool and on a queue.
import { fileURLToPath } from 'node:url';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, hibikiAsync, hibikiWith } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis.js';

const MODEL = fileURLToPath(new URL('../../models/translate-en-ja', import.meta.url));
const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));
const MAX_POSITIONS = 256; // models/translate-en-ja/config.json

const hibiki = (...args: string[]) => hibikiWith({ timeoutMs: 240_000 }, ...args);

describe('hibiki translate with a line the model refuses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-failed-lines-'));
  const sentences = readFileSync(join(SAMPLES, 'test.en'), 'utf8').split('\n').slice(0, 5);
  const tooLong = 'dog '.repeat(2000).trim(); // 2000 pieces and the end: 2001 tokens
  // Line 4 (from 1) is too long for the model.
  const input = join(dir, 'in.en');
  writeFileSync(input, `${[...sentences.slice(0, 3), tooLong, ...sentences.slice(3)].join('\n')}\n`);
  const refusal = `line 4: source: 2001 tokens; the model takes 1 to ${MAX_POSITIONS}\n`;
  const summary = (where: string) => `1 of 6 lines failed (named above): each is an empty line in ${where}\n`;
  let clean: string[];

  beforeAll(() => {
    // The five good lines alone: what each must read in the output.
    writeFileSync(join(dir, 'good.en'), `${sentences.join('\n')}\n`);
    const r = hibiki('translate', '-m', MODEL, '-i', join(dir, 'good.en'), '-w', '0', '-q');
    expect([r.code, r.stderr]).toEqual([0, '']);
    clean = r.stdout.split('\n').slice(0, -1);
    expect(clean).toHaveLength(5);
  });
  const expected = () => `${[...clean.slice(0, 3), '', ...clean.slice(3)].join('\n')}\n`;

  it('to a file, in process: the line is empty, named as line 4, the rest written, exit code 1, no .partial left', () => {
    const out = join(dir, 'out.ja');
    const r = hibiki('translate', '-m', MODEL, '-i', input, '-o', out, '-w', '0', '-q');
    expect([r.code, r.stderr, r.stdout]).toEqual([1, refusal + summary(out), '']);
    expect(readFileSync(out, 'utf8')).toBe(expected());
    expect(readdirSync(dir).filter((f) => f.startsWith('out.ja'))).toEqual(['out.ja']);
  });

  it('to stdout, on two workers: the same lines', () => {
    const r = hibiki('translate', '-m', MODEL, '-i', input, '-w', '2', '-q');
    expect([r.code, r.stderr, r.stdout]).toEqual([1, refusal + summary('the output'), expected()]);
  });

  it('--resume after a run with a refused line starts over (the journal is gone) and gives the same file', () => {
    const out = join(dir, 'resumed.ja');
    const first = hibiki('translate', '-m', MODEL, '-i', input, '-o', out, '-w', '0', '-q');
    expect(first.code).toBe(1);
    expect(existsSync(`${out}.partial`)).toBe(false);
    const again = hibiki('translate', '-m', MODEL, '-i', input, '-o', out, '-w', '0', '-q', '--resume');
    expect([again.code, again.stderr]).toEqual([1, refusal + summary(out)]);
    expect(readFileSync(out, 'utf8')).toBe(expected());
  });

  describe('on a queue', () => {
    let redis: Awaited<ReturnType<typeof startRedis>>;
    let worker: ChildProcess;
    beforeAll(async () => {
      redis = await startRedis();
      worker = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', '--queue', redis.url, '-m', MODEL, '-w', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      await new Promise<void>((resolve, reject) => {
        worker.stderr!.on('data', (d) => {
          log += d;
          if (/serving the \w+ queue/.test(log)) resolve();
        });
        worker.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${log}`)));
      });
    }, 60_000);
    afterAll(async () => {
      if (worker.exitCode === null) {
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        worker.kill('SIGTERM');
        await exited;
      }
      await redis?.stop();
    });

    it('the line is empty and named by its line number in the whole input (not in its shard), the rest written, exit code 1', async () => {
      const out = join(dir, 'queued.ja');
      // 64 tokens a shard: the long line is a shard of its own, after others. Not blocking: the worker's stderr flows meanwhile.
      const r = await hibikiAsync({ timeoutMs: 240_000 }, 'translate', '--queue', redis.url, '-m', MODEL, '-i', input, '-o', out, '--shard-tokens', '64', '-q');
      expect([r.code, r.stderr, r.stdout]).toEqual([1, refusal + summary(out), '']);
      expect(readFileSync(out, 'utf8')).toBe(expected());
    });
  });
});
