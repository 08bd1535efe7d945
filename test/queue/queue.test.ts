// Distributed translation through BullMQ on a private redis-server: real
// worker processes on loopback, killed the ways machines die.
import { fileURLToPath } from 'node:url';
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelContentHash } from '../../src/io/model-dir.js';
import { runOnQueue, shardJobId } from '../../src/queue/producer.js';
import { QUEUE_PREFIX, connectRedis, parseQueueUrl } from '../../src/queue/redis.js';
import { planTranslateShards } from '../../src/queue/translate.js';
import { startRedis } from '../helpers/redis.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const MODEL = fileURLToPath(new URL('../../models/translate-en-ja', import.meta.url));
const HELD_OUT = fileURLToPath(new URL('../../samples/test.en', import.meta.url));
const WAVENET = fileURLToPath(new URL('../../models/wavenet-piano', import.meta.url));
const DETECTOR = fileURLToPath(new URL('../../models/face-detector', import.meta.url));
const IMAGES = fileURLToPath(new URL('../../samples/images/', import.meta.url));
const SEARCH = { beam: 1, nBest: 1, lengthPenalty: 1, maxBatchTokens: 4096 };

/** Runs `hibiki` from source without blocking this process (worker logs keep flowing). */
function hibiki(...args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

/** A `hibiki worker` process with one pool thread and a 2 s lock, so a dead one is noticed quickly. */
class WorkerProcess {
  log = '';
  private constructor(readonly child: ChildProcess) {}

  static async start(url: string, model = MODEL): Promise<WorkerProcess> {
    const { child } = hibiki('worker', '--queue', url, '--model', model, '--workers', '1', '--lock-seconds', '2');
    const worker = new WorkerProcess(child);
    child.stderr!.on('data', (d) => (worker.log += d));
    await new Promise<void>((resolve, reject) => {
      const check = () => /serving the \w+ queue/.test(worker.log) && resolve();
      child.stderr!.on('data', check);
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before serving: ${worker.log}`)));
    });
    return worker;
  }

  /** Shard ids this worker finished. */
  get finished(): string[] {
    return [...this.log.matchAll(/\w+ shard (\S+) \(\d+\/\d+\) done/g)].map((m) => m[1]!);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill(signal);
    return exited;
  }
}

/** Jobs of a queue by state, straight from Redis. */
async function jobCounts(url: string, kind: string): Promise<Record<string, number>> {
  const client = await connectRedis(parseQueueUrl(url));
  const queue = new Queue(kind, { connection: client, prefix: QUEUE_PREFIX });
  try {
    return await queue.getJobCounts('completed', 'failed', 'wait', 'active');
  } finally {
    await queue.close();
    client.disconnect();
  }
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('translation on a BullMQ queue', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let queue: Queue;
  let client: Redis;
  let local: string;
  const workers: WorkerProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-queue-'));

  beforeAll(async () => {
    redis = await startRedis();
    client = await connectRedis(parseQueueUrl(redis.url));
    queue = new Queue('translate', { connection: client, prefix: QUEUE_PREFIX });
    const run = await hibiki('translate', '--model', MODEL, '--input', HELD_OUT, '--workers', '2').done;
    expect(run.code, run.stderr).toBe(0);
    local = run.stdout;
  }, 180_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await queue?.close();
    client?.disconnect();
    await redis?.stop();
  });

  const start = async (model = MODEL) => {
    const worker = await WorkerProcess.start(redis.url, model);
    workers.push(worker);
    return worker;
  };

  it('two worker processes translate the held-out set exactly as the local pool does', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const out = join(dir, 'two.ja');
    const r = await hibiki('translate', '--model', MODEL, '--queue', redis.url, '--input', HELD_OUT, '--output', out, '--shard-tokens', '1024').done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/already finished|earlier run/); // a fresh job resumes nothing
    expect(readFileSync(out, 'utf8')).toBe(local);
    // Both took part, and each shard was run to completion once.
    const finished = [...a!.finished, ...b!.finished];
    expect(a!.finished.length).toBeGreaterThan(0);
    expect(b!.finished.length).toBeGreaterThan(0);
    expect(new Set(finished).size).toBe(finished.length);
    // The finished job is removed from Redis once the output is written.
    expect(await queue.getJobCounts('completed', 'wait', 'active')).toEqual({ completed: 0, wait: 0, active: 0 });
    expect(await a!.stop()).toBe(0); // SIGTERM drains and exits 0
    expect(await b!.stop()).toBe(0);
  }, 180_000);

  it('a worker killed with SIGKILL mid-shard: its shard is retried elsewhere, the output is the same', async () => {
    const doomed = await start();
    const out = join(dir, 'killed.ja');
    const producer = hibiki('translate', '--model', MODEL, '--queue', redis.url, '--input', HELD_OUT, '--output', out, '--shard-tokens', '2048');
    let active = '';
    await waitFor('a shard to be running', async () => {
      const jobs = await queue.getActive();
      active = jobs[0]?.id ?? '';
      return active !== '';
    });
    await doomed.stop('SIGKILL');
    expect(doomed.finished).not.toContain(active);
    const rescuer = await start();
    const r = await producer.done;
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(local);
    expect(rescuer.finished).toContain(active);
    await rescuer.stop();
  }, 240_000);

  it('a producer killed and run again takes the finished shards and runs no shard twice to completion', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const out = join(dir, 'rerun.ja');
    const args = ['translate', '--model', MODEL, '--queue', redis.url, '--input', HELD_OUT, '--output', out, '--shard-tokens', '512'];
    const first = hibiki(...args);
    await waitFor('two finished shards', async () => (await queue.getCompletedCount()) >= 2);
    first.child.kill('SIGKILL');
    await first.done;
    expect(existsSync(out)).toBe(false);
    const again = await hibiki(...args).done;
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/(\d+) of (\d+) shards were already finished/);
    expect(readFileSync(out, 'utf8')).toBe(local);
    const finished = [...a!.finished, ...b!.finished];
    expect(new Set(finished).size).toBe(finished.length);
    const shards = Number(/\d+ of (\d+) shards were already finished/.exec(again.stderr)![1]);
    expect(finished).toHaveLength(shards);
    await Promise.all([a!.stop(), b!.stop()]);
  }, 240_000);

  it('a worker holding other weights refuses the shards, naming both models', async () => {
    const other = join(dir, 'other-model');
    cpSync(MODEL, other, { recursive: true });
    const weights = readFileSync(join(MODEL, 'model.safetensors'));
    weights[weights.length - 1]! ^= 1; // one bit of one weight
    writeFileSync(join(other, 'model.safetensors'), weights);
    expect(modelContentHash(other)).not.toBe(modelContentHash(MODEL));
    const stranger = await start(other);
    const input = join(dir, 'few.en');
    writeFileSync(input, readFileSync(HELD_OUT, 'utf8').split('\n').slice(0, 20).join('\n'));
    const out = join(dir, 'refused.ja');
    const r = await hibiki('translate', '--model', MODEL, '--queue', redis.url, '--input', input, '--output', out).done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lines 1–20 \(shard 1 of 1\) failed after 1 attempt\(s\): worker \S+ holds model .*other-model \(sha256 [0-9a-f]{12}…\), but the job was submitted for translate-en-ja/);
    expect(existsSync(out)).toBe(false);
    await stranger.stop();
  }, 120_000);
});

describe('generation and detection on a BullMQ queue', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const workers: WorkerProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-queue-media-'));
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await redis?.stop();
  });

  it('generate: the same WAV files, bit for bit, as the local pool', async () => {
    const worker = await WorkerProcess.start(redis.url, WAVENET);
    workers.push(worker);
    const common = ['generate', '--seconds', '0.1', '--count', '3', '--condition', '64', '--seed', '7'];
    const here = await hibiki(...common, '--out', join(dir, 'here.wav'), '--workers', '2').done;
    expect(here.code, here.stderr).toBe(0);
    const queued = await hibiki(...common, '--out', join(dir, 'queued.wav'), '--queue', redis.url, '--shard-seconds', '0.2').done;
    expect(queued.code, queued.stderr).toBe(0);
    expect(worker.finished).toHaveLength(2); // 2 + 1 files
    expect(await jobCounts(redis.url, 'generate')).toEqual({ completed: 0, failed: 0, wait: 0, active: 0 });
    for (const k of [1, 2, 3]) {
      expect(readFileSync(join(dir, `queued-${k}.wav`)).equals(readFileSync(join(dir, `here-${k}.wav`)))).toBe(true);
    }
    await worker.stop();
  }, 120_000);

  it('translate with a Hugging Face Marian directory: transformers\' texts, as the local run gives them', async () => {
    const marian = fileURLToPath(new URL('../fixtures/marian/shared-swish', import.meta.url));
    const expected = JSON.parse(readFileSync(join(marian, 'expected.json'), 'utf8')) as { cases: Array<{ source: string; greedy_text: string }> };
    const cases = expected.cases.filter((c) => c.source.trim() !== '');
    const input = join(dir, 'marian.src');
    writeFileSync(input, cases.map((c) => c.source).join('\n') + '\n');
    const worker = await WorkerProcess.start(redis.url, marian);
    workers.push(worker);
    const queued = await hibiki('translate', '--model', marian, '--input', input, '--output', join(dir, 'marian.out'), '--beam', '1',
      '--queue', redis.url, '--shard-tokens', '64').done;
    expect(queued.code, queued.stderr).toBe(0);
    expect(worker.finished.length).toBeGreaterThan(1);
    expect(readFileSync(join(dir, 'marian.out'), 'utf8')).toBe(cases.map((c) => c.greedy_text).join('\n') + '\n');
    await worker.stop();
  }, 120_000);

  it('detect: the same boxes as the local pool; a broken file fails alone, named', async () => {
    const worker = await WorkerProcess.start(redis.url, DETECTOR);
    workers.push(worker);
    writeFileSync(join(dir, 'notes.png'), 'not an image at all');
    const images = [join(IMAGES, 'astronaut.png'), join(dir, 'notes.png'), join(IMAGES, 'astronaut-camera.jpg'), join(dir, 'missing.png')];
    const here = await hibiki('detect', ...images, '--json', join(dir, 'here.json'), '--workers', '2').done;
    const queued = await hibiki('detect', ...images, '--json', join(dir, 'queued.json'), '--queue', redis.url, '--shard-images', '2').done;
    expect([here.code, queued.code]).toEqual([1, 1]);
    expect(queued.stdout).toBe(here.stdout);
    expect(readFileSync(join(dir, 'queued.json'), 'utf8')).toBe(readFileSync(join(dir, 'here.json'), 'utf8'));
    expect(JSON.parse(readFileSync(join(dir, 'queued.json'), 'utf8')).length).toBeGreaterThan(0);
    expect(queued.stderr).toMatch(/notes\.png: not a PNG or JPEG file/);
    expect(queued.stderr).toMatch(/missing\.png: .*ENOENT/);
    expect(worker.finished).toHaveLength(2);
    // Every shard finished: the refused images would fail the same on a rerun, so nothing is kept.
    expect(await jobCounts(redis.url, 'detect')).toEqual({ completed: 0, failed: 0, wait: 0, active: 0 });
    await worker.stop();
  }, 120_000);
});

describe('retries', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => redis?.stop());

  it('a shard that throws is retried with backoff; one that always throws is reported after its last attempt', async () => {
    const url = parseQueueUrl(redis.url);
    const client = await connectRedis(url);
    const runs: Array<{ shard: number; at: number }> = [];
    // A stand-in for a flaky machine: shard 0 fails once, shard 1 every time.
    const worker = new Worker('translate', async (job) => {
      const { shard } = job.data as { shard: number };
      runs.push({ shard, at: Date.now() });
      if (shard === 1 || job.attemptsMade === 0) throw new Error(`disk full on attempt ${job.attemptsMade + 1}`);
      return { ok: shard };
    }, { connection: client, prefix: QUEUE_PREFIX });
    try {
      const run = await runOnQueue<string, { ok: number }>({
        url, kind: 'translate', jobKey: 'f'.repeat(64), model: 'm', modelName: 'test', attempts: 3, backoffMs: 300, log: () => {},
      }, [{ data: 'a', items: 1 }, { data: 'b', items: 1 }]);
      expect(run.results).toEqual([{ ok: 0 }, undefined]);
      expect(run.failures).toEqual([{ shard: 1, reason: 'disk full on attempt 3', attempts: 3 }]);
      const times = (k: number) => runs.filter((r) => r.shard === k).map((r) => r.at);
      expect(times(0)).toHaveLength(2);
      const [t1, t2, t3] = times(1);
      expect(times(1)).toHaveLength(3);
      // Exponential backoff: 300 ms, then 600 ms.
      expect(t2! - t1!).toBeGreaterThanOrEqual(290);
      expect(t3! - t2!).toBeGreaterThanOrEqual(590);
      await run.remove();
    } finally {
      await worker.close();
      client.disconnect();
    }
  }, 60_000);
});

describe('queue plumbing', () => {
  it('shards are consecutive lines of at most the token budget, a longer line alone', () => {
    const lines = ['a b c', 'hello world', 'x', 'this is a much longer line that has many more tokens in it than the others', 'y'];
    const shards = planTranslateShards(lines, MODEL, 12, SEARCH);
    expect(shards.flatMap((s) => s.lines)).toEqual(lines);
    expect(shards.map((s) => s.first)).toEqual(shards.map((_, i) => shards.slice(0, i).reduce((n, s) => n + s.lines.length, 0)));
    expect(shards.some((s) => s.lines.length === 1 && s.lines[0]!.startsWith('this is a much'))).toBe(true);
    expect(shards.length).toBeGreaterThan(2);
  });

  it('shard ids are stable and valid BullMQ custom ids', () => {
    expect(shardJobId('ab'.repeat(32), 7)).toBe(`${'ab'.repeat(16)}-7`);
    expect(shardJobId('ab'.repeat(32), 7)).not.toContain(':');
  });

  it('refuses URLs that are not redis:// and says so when no server answers', async () => {
    expect(() => parseQueueUrl('localhost:6379')).toThrow(/expected a redis:\/\/ or rediss:\/\/ URL|is not a URL/);
    expect(() => parseQueueUrl('http://x:1')).toThrow(/expected a redis:\/\/ or rediss:\/\/ URL, got http:/);
    const url = parseQueueUrl('redis://127.0.0.1:1');
    await expect(connectRedis(url, 1000)).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it('the CLI refuses a bad --queue with exit code 2 and an unreachable one with exit code 1', async () => {
    const bad = await hibiki('worker', '--queue', 'http://x').done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--queue http:\/\/x: expected a redis:\/\/ or rediss:\/\/ URL/);
    const gone = await hibiki('translate', '--model', MODEL, '--queue', 'redis://127.0.0.1:1', '--input', HELD_OUT).done;
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/error: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  }, 60_000);
});
