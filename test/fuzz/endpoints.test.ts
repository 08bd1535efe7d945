// Property-based fuzzing of every `hibiki serve` endpoint: 10,000 generated requests each (well-formed,
// malformed and hostile bodies) must each get an answer that is a success or a typed refusal
// ({error, message} with one of hibiki's codes, a 4xx for what the client sent) — never a crash, a hang,
// an untyped answer or a 5xx.
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Server, startServer } from '../../src/serve/server.js';

const CASES = 10_000;
const png = new Uint8Array(readFileSync(new URL('../../samples/images/digits/3.png', import.meta.url)));

describe(`hibiki serve under ${CASES} generated requests per endpoint`, () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer({
      translate: fileURLToPath(new URL('../../models/translate-en-ja', import.meta.url)),
      generate: fileURLToPath(new URL('../fixtures/wavenet-k2', import.meta.url)),
      detect: fileURLToPath(new URL('../../models/face-detector', import.meta.url)),
      classify: fileURLToPath(new URL('../../models/digits-densenet', import.meta.url)),
      segment: fileURLToPath(new URL('../../models/shapes-unet', import.meta.url)),
      workers: 0, limits: { texts: 4, charsPerText: 40, seconds: 0.01, imagePixels: 4096, bodyBytes: 64 * 1024 },
    });
  });
  afterAll(() => server.close());

  async function fuzz(name: string, requests: fc.Arbitrary<{ url: string; payload: string | Uint8Array; type: string }>) {
    const statuses = new Map<number, number>();
    await fc.assert(fc.asyncProperty(requests, async ({ url, payload, type }) => {
      const r = await server.app.inject({ method: 'POST', url, payload: typeof payload === 'string' ? payload : Buffer.from(payload), headers: { 'content-type': type } });
      statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
      if (r.statusCode === 200) return;
      expect(r.statusCode >= 400 && r.statusCode < 500 && /^\{"error":"E_[A-Z_]+","message":"[^"]/.test(r.body), `${r.statusCode} ${r.body}`).toBe(true);
    }), { numRuns: CASES, seed: 20261128 });
    console.log(`${name}: ${CASES} requests, answers ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(', ')}`);
    return statuses;
  }

  const json = (value: fc.Arbitrary<unknown>, url: string) => fc.oneof(
    { weight: 8, arbitrary: value.map((v) => ({ url, payload: JSON.stringify(v), type: 'application/json' })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 64 }).map((s) => ({ url, payload: s, type: 'application/json' })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ url, payload: JSON.stringify(v), type: 'application/json' })) },
  );

  it('POST /v1/translate', async () => {
    const text = fc.oneof(fc.string({ maxLength: 50 }), fc.constantFrom('The cat is small.', 'I like apples.', ''));
    const body = fc.record({
      texts: fc.oneof({ weight: 5, arbitrary: fc.array(text, { maxLength: 6 }) }, { weight: 1, arbitrary: fc.jsonValue() }),
      references: fc.option(fc.array(text, { maxLength: 6 })),
      beam: fc.option(fc.oneof(fc.integer({ min: -2, max: 20 }), fc.double())),
    }, { requiredKeys: ['texts'] });
    const statuses = await fuzz('translate', json(body, '/v1/translate'));
    expect(statuses.get(200)).toBeGreaterThan(100);
  }, 600_000);

  it('POST /v1/generate', async () => {
    const body = fc.record({
      seconds: fc.oneof({ weight: 3, arbitrary: fc.double({ min: 0.001, max: 0.01, noNaN: true }) }, fc.double({ min: -1, max: 0.02 }),
        fc.constantFrom(1e9, -0, Number.MAX_VALUE), fc.string()),
      condition: fc.option(fc.oneof(fc.constantFrom('low', 'mid', 'high'), fc.string({ maxLength: 80 }))),
      temperature: fc.option(fc.double({ min: -1, max: 12 })),
      seed: fc.option(fc.oneof(fc.integer({ min: -5, max: 2 ** 32 }), fc.double())),
    }, { requiredKeys: ['seconds'] });
    const statuses = await fuzz('generate', json(body, '/v1/generate'));
    expect(statuses.get(200)).toBeGreaterThan(100);
  }, 600_000);

  /** Damaged and random image bytes under each content type, with good and bad query strings. */
  function imageRequests(url: string, queries: string[]) {
    const damaged = fc.tuple(fc.array(fc.tuple(fc.nat(png.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.option(fc.nat(png.length)))
      .map(([writes, cut]) => {
        const b = png.slice();
        for (const [i, v] of writes) b[i] = v;
        return cut === null ? b : b.subarray(0, cut);
      });
    const body = fc.oneof(damaged, fc.uint8Array({ maxLength: 512 }));
    const type = fc.constantFrom('image/png', 'image/jpeg', 'application/octet-stream', 'text/plain');
    return fc.tuple(body, type, fc.constantFrom('', ...queries)).map(([payload, t, q]) => ({ url: `${url}${q}`, payload, type: t }));
  }

  it('POST /v1/detect', async () => {
    const statuses = await fuzz('detect', imageRequests('/v1/detect', ['?score=0.5', '?score=2', '?iou=abc', '?maxResults=0', '?maxResults=5', '?top=1']));
    expect(statuses.get(200)).toBeGreaterThan(10);
  }, 600_000);

  it('POST /v1/classify', async () => {
    const statuses = await fuzz('classify', imageRequests('/v1/classify', ['?top=3', '?top=0', '?top=-1', '?top=1e3', '?top=99999', '?score=1']));
    expect(statuses.get(200)).toBeGreaterThan(10);
  }, 600_000);

  it('POST /v1/segment', async () => {
    const statuses = await fuzz('segment', imageRequests('/v1/segment', ['?x=1', '?top=2']));
    expect(statuses.get(200)).toBeGreaterThan(10);
  }, 600_000);
});
