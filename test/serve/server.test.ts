import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import { rleDecode, rleFromString } from '../../src/metrics/mask-rle.js';
import { type Server, startServer } from '../../src/serve/server.js';

const TRANSLATE = fileURLToPath(new URL('../../models/translate-en-ja', import.meta.url));
const GENERATE = fileURLToPath(new URL('../fixtures/wavenet-k2', import.meta.url));
const DETECT = fileURLToPath(new URL('../../models/face-detector', import.meta.url));
const CLASSIFY = fileURLToPath(new URL('../../models/digits-densenet', import.meta.url));
const SEGMENT = fileURLToPath(new URL('../../models/shapes-unet', import.meta.url));
const sample = (name: string) => readFileSync(new URL(`../../samples/images/${name}`, import.meta.url));
const astronaut = readFileSync(new URL('../../samples/images/astronaut.png', import.meta.url));
const json = (payload: unknown) => ({ payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });

describe('hibiki serve', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer({ translate: TRANSLATE, generate: GENERATE, detect: DETECT, classify: CLASSIFY, segment: SEGMENT, workers: 0,
      limits: { texts: 4, charsPerText: 100, seconds: 2, imagePixels: 1_000_000, bodyBytes: 2 ** 20 } });
  });
  afterAll(() => server.close());

  it('translates, with BLEU against references', async () => {
    const r = await server.app.inject({ method: 'POST', url: '/v1/translate',
      ...json({ texts: ['The cat is small.', ''], references: ['neko wa chiisai desu .', ''] }) });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body.translations.map((t: { text: string }) => t.text)).toEqual(['neko wa chiisai desu.', '']);
    expect(body.bleu.signature).toBe('nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0');
    expect(body.bleu.score).toBeCloseTo(100, 6);
  });

  it('generates a WAV of the length asked for', async () => {
    const r = await server.app.inject({ method: 'POST', url: '/v1/generate', ...json({ seconds: 0.05, condition: 'high', seed: 3, prompt: false }) });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['content-type']).toBe('audio/wav');
    const wav = new wavefile.WaveFile(r.rawPayload);
    const rate = (wav.fmt as { sampleRate: number }).sampleRate;
    expect((wav.getSamples() as unknown as ArrayLike<number>).length).toBe(Math.round(0.05 * rate));
  });

  it('detects faces in PNG bytes', async () => {
    const r = await server.app.inject({ method: 'POST', url: '/v1/detect?score=0.5', payload: astronaut, headers: { 'content-type': 'image/png' } });
    expect(r.statusCode, r.body).toBe(200);
    const { detections } = r.json();
    expect(detections).toHaveLength(1);
    expect(detections[0].bbox[0]).toBeCloseTo(181.1, 0);
  });

  it('classifies a digit', async () => {
    const r = await server.app.inject({ method: 'POST', url: '/v1/classify?top=3', payload: sample('digits/7.png'), headers: { 'content-type': 'image/png' } });
    expect(r.statusCode, r.body).toBe(200);
    const { classes } = r.json();
    expect(classes.map((c: { label: string }) => c.label)[0]).toBe('7');
    expect(classes).toHaveLength(3);
    const direct = await server.models.classifier!.classify([sample('digits/7.png')], { top: 3 });
    expect(classes).toEqual(direct.results[0]);
  });

  it('segments into COCO RLE masks that decode to the library’s labels', async () => {
    const bytes = sample('shapes/shapes-1.png');
    const r = await server.app.inject({ method: 'POST', url: '/v1/segment', payload: bytes, headers: { 'content-type': 'image/png' } });
    expect(r.statusCode, r.body).toBe(200);
    const { width, height, segments } = r.json();
    const { labels } = (await server.models.segmenter!.segment([bytes])).results[0]!;
    const rebuilt = new Uint8Array(width * height);
    for (const s of segments) {
      expect(['circle', 'square', 'triangle']).toContain(s.label);
      const mask = rleDecode(rleFromString(s.segmentation.counts, height, width)); // column-major
      for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) if (mask[x * height + y]) rebuilt[y * width + x] = s.index;
    }
    expect(segments.length).toBeGreaterThan(0);
    expect(rebuilt).toEqual(labels);
  });

  it('answers every refusal as {error, message}: unknown route, schema, content type', async () => {
    const route = await server.app.inject({ method: 'GET', url: '/v2/nothing?x=1' });
    expect([route.statusCode, route.json()]).toEqual([404, { error: 'E_NOT_FOUND', message: 'no route GET /v2/nothing' }]);
    const schema = await server.app.inject({ method: 'POST', url: '/v1/classify?top=0', payload: sample('digits/7.png'), headers: { 'content-type': 'image/png' } });
    expect([schema.statusCode, schema.json().error]).toEqual([400, 'E_BAD_INPUT']);
    expect(schema.json().message).toMatch(/top must match pattern/);
    const type = await server.app.inject({ method: 'POST', url: '/v1/translate', payload: '<texts/>', headers: { 'content-type': 'application/xml' } });
    expect([type.statusCode, type.json().error]).toEqual([415, 'E_BAD_INPUT']);
    const broken = await server.app.inject({ method: 'POST', url: '/v1/translate', payload: '{"texts": [', headers: { 'content-type': 'application/json' } });
    expect([broken.statusCode, broken.json().error]).toEqual([400, 'E_BAD_INPUT']);
  });

  it('answers bad input and limits with a 4xx naming the problem, before doing the work', async () => {
    const cases: Array<[string, Record<string, unknown>, number, RegExp]> = [
      ['/v1/translate', { texts: ['a', 'b', 'c', 'd', 'e'] }, 400, /must NOT have more than 4 items/],
      ['/v1/translate', { texts: ['x'.repeat(101)] }, 400, /must NOT have more than 100 characters/],
      // a 10⁶-token text: over the body limit (1 MiB here), or over the characters per text within it
      ['/v1/translate', { texts: ['a '.repeat(1e6)] }, 413, /"error":"E_TOO_LARGE".*Request body is too large/],
      ['/v1/translate', { texts: ['a'.repeat(5e5)] }, 400, /"error":"E_BAD_INPUT".*must NOT have more than 100 characters/],
      ['/v1/translate', { texts: ['a'], references: ['a', 'b'] }, 400, /2 references for 1 texts/],
      ['/v1/translate', { texts: 'a' }, 400, /must be array/],
      ['/v1/generate', { seconds: 1e9 }, 400, /seconds must be <= 2/],
      ['/v1/generate', { seconds: 0.01, condition: 'C9' }, 400, /unknown condition ..C9/],
      ['/v1/generate', { seconds: 0.01, extra: 1 }, 400, /must NOT have additional properties/],
      ['/v1/generate', { seconds: 0.01, prompt: 'no' }, 400, /body\/prompt must be boolean/],
      ['/v1/generate', { seconds: 0.01, minP: 2 }, 400, /body\/minP must be <= 1/],
    ];
    for (const [url, body, status, message] of cases) {
      const r = await server.app.inject({ method: 'POST', url, ...json(body) });
      expect(r.statusCode, `${url} ${JSON.stringify(body)}`).toBe(status);
      expect(r.body).toMatch(message);
    }
    // PNG headers claiming 5000 × 5000 (over this server's 10⁶ pixels), 16000 × 16000 and 100000 × 100000 (over
    // any image hibiki decodes) are refused from the header, with the rest of the file missing: too large, 413
    // (the larger two used to be 400, as if malformed)
    const header = (side: number) => {
      const h = Buffer.from(astronaut.subarray(0, 33));
      h.writeUInt32BE(side, 16);
      h.writeUInt32BE(side, 20);
      return h;
    };
    const big = await server.app.inject({ method: 'POST', url: '/v1/detect', payload: header(5000), headers: { 'content-type': 'image/png' } });
    expect([big.statusCode, big.json().error]).toEqual([413, 'E_TOO_LARGE']);
    expect(big.json().message).toMatch(/5000×5000, over the limit of 1000000 pixels/);
    for (const side of [16000, 100000]) {
      const huge = await server.app.inject({ method: 'POST', url: '/v1/detect', payload: header(side), headers: { 'content-type': 'image/png' } });
      expect([huge.statusCode, huge.json().error]).toEqual([413, 'E_TOO_LARGE']);
      expect(huge.json().message).toMatch(new RegExp(`${side}×${side}, over the limit`));
    }
    const junk = await server.app.inject({ method: 'POST', url: '/v1/detect', payload: Buffer.from('not an image'), headers: { 'content-type': 'image/png' } });
    expect(junk.statusCode).toBe(400);
    const body = await server.app.inject({ method: 'POST', url: '/v1/detect', payload: Buffer.alloc(2 ** 20 + 1), headers: { 'content-type': 'application/octet-stream' } });
    expect(body.statusCode).toBe(413);
  });

  it('refuses a body that claims 1 GB from its header, without reading it', async () => {
    const address = new URL(await server.app.listen({ port: 0, host: '127.0.0.1' }));
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(address.port), address.hostname, () => {
        socket.write('POST /v1/translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{"texts":[');
      });
      let text = '';
      socket.on('data', (d) => { text += d; if (text.includes('\r\n\r\n')) { socket.destroy(); resolve(text); } });
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('serves health and Prometheus metrics, counting every answer', async () => {
    await server.app.inject({ method: 'POST', url: '/v1/generate', ...json({ seconds: 0.01 }) });
    await server.app.inject({ method: 'POST', url: '/v1/generate', ...json({ seconds: -1 }) });
    expect((await server.app.inject({ method: 'GET', url: '/healthz' })).json()).toMatchObject({ status: 'ok', models: { translate: true, generate: true, detect: true } });
    const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/hibiki_http_requests_total\{route="\/v1\/generate",status="200"\} [1-9]/);
    expect(metrics).toMatch(/hibiki_http_requests_total\{route="\/v1\/generate",status="400"\} [1-9]/);
    expect(metrics).toMatch(/^# TYPE hibiki_http_request_duration_seconds histogram$/m);
    expect(metrics).toMatch(/^hibiki_http_request_duration_seconds_count\{route="\/v1\/generate"\} [2-9]/m);
    expect(metrics).toMatch(/^hibiki_requests_in_flight 0$/m);
    expect(metrics).toMatch(/^# TYPE hibiki_requests_rejected_total counter$/m);
    // the pools' counters are counters; in the server's own thread there is no pool to count
    expect(metrics).toMatch(/^# TYPE hibiki_pool_worker_restarts_total counter$/m);
    expect(metrics).toMatch(/^# TYPE hibiki_pool_task_retries_total counter$/m);
    // prom-client's default process metrics, in the server's own registry
    expect(metrics).toMatch(/^process_cpu_user_seconds_total [0-9.e-]+$/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds [0-9.e-]+$/m);
    // unknown routes are answered and counted too
    await server.app.inject({ method: 'GET', url: '/nothing' });
    expect((await server.app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^hibiki_http_requests_total\{route="unmatched",status="404"\} [1-9]/m);
  });
});

describe('a client that goes away', () => {
  it('frees its slot, and is counted in hibiki_http_requests_disconnected_total', async () => {
    // On a worker: in the server's own thread a running item cannot be told the client left until it ends.
    const server = await startServer({ generate: GENERATE, workers: 1, maxInFlight: 1, limits: { seconds: 3600 } });
    try {
      const address = new URL(await server.app.listen({ port: 0, host: '127.0.0.1' }));
      const body = JSON.stringify({ seconds: 3600 }); // minutes of work
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(address.port), address.hostname, () => {
          socket.write(`POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
          setTimeout(() => { socket.destroy(); resolve(); }, 300); // gone mid-generation
        });
        socket.on('error', reject);
      });
      let metrics = '';
      for (let i = 0; i < 100 && !/hibiki_http_requests_disconnected_total\{route="\/v1\/generate"\} 1/.test(metrics); i++) {
        await new Promise((r) => setTimeout(r, 100));
        metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
      }
      expect(metrics).toMatch(/^hibiki_http_requests_disconnected_total\{route="\/v1\/generate"\} 1$/m);
      expect(metrics).toMatch(/^hibiki_requests_in_flight 0$/m);
      // the slot is free again: the one request this server admits at a time runs
      expect((await server.app.inject({ method: 'POST', url: '/v1/generate', ...json({ seconds: 0.01 }) })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('hibiki serve under overload and deadlines', () => {
  it('answers 503 with Retry-After past maxInFlight, and 504 past the deadline', async () => {
    const server = await startServer({ generate: GENERATE, workers: 0, maxInFlight: 1, timeoutMs: 60_000 });
    const asked = json({ seconds: 1 });
    const [a, b] = await Promise.all([
      server.app.inject({ method: 'POST', url: '/v1/generate', ...asked }),
      server.app.inject({ method: 'POST', url: '/v1/generate', ...asked }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 503]);
    expect((a.statusCode === 503 ? a : b).headers['retry-after']).toBe('1');
    await server.close();
    // a deadline stops a running shard on a worker (in the server's own thread it is checked between shards)
    const slow = await startServer({ generate: GENERATE, workers: 1, timeoutMs: 200, limits: { seconds: 30 } });
    const r = await slow.app.inject({ method: 'POST', url: '/v1/generate', ...json({ seconds: 30 }) });
    expect([r.statusCode, r.json().error, r.json().message]).toEqual([504, 'E_TIMEOUT', 'timed out after 200 ms']);
    expect((await slow.app.inject({ method: 'POST', url: '/v1/generate', ...json({ seconds: 0.01 }) })).statusCode).toBe(200); // the pool recovers
    await slow.close();
  });

  it('SIGTERM lets the request in flight finish, then exits 0', async () => {
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve', '-p', '0', '--translate', 'none', '--detect', 'none', '--generate', GENERATE, '-w', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const address = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
        const m = /listening on (http:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(stderr)));
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const pending = fetch(`${address}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds: 2 }) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGTERM');
    const response = await pending;
    expect(response.status).toBe(200);
    expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGTERM, draining requests in flight/);
  }, 60_000);

  it('a worker killed mid-request: retried on its replacement; with no retries left the request fails with 500 and a message; the next succeeds', async () => {
    const until = async (ready: () => boolean) => { while (!ready()) await new Promise((resolve) => setTimeout(resolve, 10)); };
    const killMidTask = async (server: Server) => {
      const pool = server.models.generator!.pool!;
      const started = pool.stats.tasks;
      while (pool.stats.tasks === started) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 100)); // the worker that took the task is running it
      for (const thread of pool.threads) void thread.terminate();
    };
    const asked = json({ seconds: 20 });
    const retrying = await startServer({ generate: GENERATE, workers: 1, limits: { seconds: 30 } });
    const [retried] = await Promise.all([retrying.app.inject({ method: 'POST', url: '/v1/generate', ...asked }), killMidTask(retrying)]);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retrying.models.generator!.pool!.stats).toMatchObject({ retried: 1, workersLost: 1 });
    expect((await retrying.app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^hibiki_pool_task_retries_total\{task="generate"\} 1$/m);
    await retrying.close();

    const server = await startServer({ generate: GENERATE, workers: 1, retries: 0, limits: { seconds: 30 } });
    const [failed] = await Promise.all([server.app.inject({ method: 'POST', url: '/v1/generate', ...asked }), killMidTask(server)]);
    expect(failed.statusCode).toBe(500);
    expect(failed.json()).toMatchObject({ error: 'E_INTERNAL', message: expect.stringMatching(/^the worker running items 0 died/) });
    const after = await server.app.inject({ method: 'POST', url: '/v1/generate', ...json({ seconds: 0.05 }) });
    expect(after.statusCode).toBe(200);
    const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^hibiki_pool_worker_restarts_total\{task="generate"\} 1$/m);
    expect(metrics).toMatch(/^hibiki_pool_task_retries_total\{task="generate"\} 0$/m);
    await server.close();

    // Regression: a replacement worker killed while it starts up. Piscina then stops replacing workers and
    // its retry used to wait forever; now the workers are started afresh and the request fails with 500.
    const again = await startServer({ generate: GENERATE, workers: 1, limits: { seconds: 30 } });
    const p = again.models.generator!.pool!;
    const killAt = async (ready: () => boolean) => {
      await until(ready);
      for (const thread of p.threads) void thread.terminate();
    };
    const [lost] = await Promise.all([
      again.app.inject({ method: 'POST', url: '/v1/generate', ...asked }),
      killAt(() => p.stats.tasks >= 1).then(() => killAt(() => p.stats.retried >= 1)),
    ]);
    expect(lost.statusCode).toBe(500);
    expect(lost.json().error).toBe('E_INTERNAL');
    expect((await again.app.inject({ method: 'POST', url: '/v1/generate', ...json({ seconds: 0.05 }) })).statusCode).toBe(200);
    await again.close();
  }, 120_000);
});
