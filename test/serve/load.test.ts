/**
 * hibiki serve at the load it admits, and past it. Every endpoint gets
 * maxInFlight concurrent multi-item requests (all must succeed: admission
 * and memory agree), then four times that (only 200, 503 with Retry-After,
 * or 504 — never a 500), several rounds over, with the process's resident
 * memory flat after the first. It guards the 500 E_RESOURCE "no WebAssembly
 * address space left for another scratch region" that 8 concurrent
 * translations on 2 workers used to get.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Server, startServer } from '../../src/serve/server.js';

const model = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const image = (name: string) => readFileSync(new URL(`../../samples/images/${name}`, import.meta.url));
const WORKERS = 2;
const ADMITTED = 4 * WORKERS; // the server's default maxInFlight

type Request = { url: string; payload: string | Buffer; headers: Record<string, string> };
const json = (url: string, body: unknown): Request => ({ url, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const png = (url: string, bytes: Buffer): Request => ({ url, payload: bytes, headers: { 'content-type': 'image/png' } });

const ENDPOINTS: Record<string, (i: number) => Request> = {
  translate: (i) => json('/v1/translate', { texts: ['The cat is small.', `The dog sees ${i} birds.`, 'A bird flies.'] }),
  generate: (i) => json('/v1/generate', { seconds: 0.05, seed: i }),
  detect: () => png('/v1/detect', image('astronaut.png')),
  classify: (i) => png('/v1/classify', image(`digits/${i % 10}.png`)),
  segment: (i) => png('/v1/segment', image(`shapes/shapes-${i % 4}.png`)),
};

describe(`hibiki serve at its admitted load (${ADMITTED} at once on ${WORKERS} workers) and at four times it`, () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer({
      translate: model('../../models/translate-en-ja'), generate: model('../fixtures/wavenet-k2'), detect: model('../../models/face-detector'),
      classify: model('../../models/digits-densenet'), segment: model('../../models/shapes-unet'), workers: WORKERS,
    });
  }, 120_000);
  afterAll(() => server?.close());

  const burst = (make: (i: number) => Request, n: number) =>
    Promise.all(Array.from({ length: n }, (_, i) => server.app.inject({ method: 'POST', ...make(i) })));

  it('answers every admitted request, and past that only 200, 503 + Retry-After or 504, with memory flat', async () => {
    let rssAfterFirstRound = 0;
    for (let round = 0; round < 3; round++) {
      for (const [name, make] of Object.entries(ENDPOINTS)) {
        const admitted = await burst(make, ADMITTED);
        expect(admitted.map((r) => r.statusCode), `${name}, round ${round}: ${admitted.find((r) => r.statusCode !== 200)?.body}`)
          .toEqual(Array(ADMITTED).fill(200));
        const over = await burst(make, 4 * ADMITTED);
        const statuses = over.map((r) => r.statusCode);
        expect(statuses.filter((s) => ![200, 503, 504].includes(s)), `${name}, round ${round}: ${over.find((r) => ![200, 503, 504].includes(r.statusCode))?.body}`).toEqual([]);
        expect(statuses.filter((s) => s === 200).length, name).toBeGreaterThanOrEqual(ADMITTED);
        for (const r of over.filter((r) => r.statusCode === 503)) expect(r.headers['retry-after']).toBe('1');
      }
      if (round === 0) rssAfterFirstRound = process.memoryUsage().rss;
    }
    const growth = process.memoryUsage().rss - rssAfterFirstRound;
    expect(growth, `resident memory grew ${(growth / 2 ** 20).toFixed(0)} MiB after the first round`).toBeLessThan(200 * 2 ** 20);
  }, 300_000);
});
