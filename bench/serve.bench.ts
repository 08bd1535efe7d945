// npm run bench:serve — `hibiki serve` under load on loopback (autocannon), in one run:
//  - POST /v1/translate (one sentence), POST /v1/generate (0.25 s of piano) and POST /v1/detect
//    (astronaut.png, 512×512) at 1, 8 and 64 concurrent connections: requests/s, p50 and p99 latency,
//    and the answers that were not 200 (503 is the designed answer to overload; anything else is an error);
//  - resident memory before and after 10,000 translate requests, then 10,000 generate requests of
//    0.05 s each (growth should stay under 10 %).
// The server runs in this process on 2 workers per model. Writes bench/results/serve.json.
import { fileURLToPath } from 'node:url';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { formatSystemLine, systemInfo } from '../src/runtime/system.js';
import { startServer } from '../src/serve/server.js';

const SECONDS = 5;
const server = await startServer({
  translate: fileURLToPath(new URL('../models/translate-en-ja', import.meta.url)),
  generate: fileURLToPath(new URL('../models/wavenet-piano', import.meta.url)),
  detect: fileURLToPath(new URL('../models/face-detector', import.meta.url)),
  workers: 2,
});
const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
console.log(formatSystemLine(systemInfo(2)));

const JSON_TYPE = 'application/json';
const endpoints = {
  translate: { path: '/v1/translate', type: JSON_TYPE, body: JSON.stringify({ texts: ['The cat is small and the dog is big.'] }) },
  generate: { path: '/v1/generate', type: JSON_TYPE, body: JSON.stringify({ seconds: 0.25, condition: '60' }) },
  generateShort: { path: '/v1/generate', type: JSON_TYPE, body: JSON.stringify({ seconds: 0.05, condition: '60' }) },
  detect: { path: '/v1/detect', type: 'image/png', body: readFileSync(new URL('../samples/images/astronaut.png', import.meta.url)) },
};

/** Waits until no request is in flight (the previous run's clients may have given up on some); returns the ms waited. */
async function idle(): Promise<number> {
  const started = performance.now();
  while ((await server.app.inject({ method: 'GET', url: '/healthz' })).json().inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  return performance.now() - started;
}

async function load(name: keyof typeof endpoints, connections: number, options: { duration?: number; amount?: number } = {}) {
  const e = endpoints[name];
  const drainedMs = await idle();
  const r = await autocannon({
    url: `${address}${e.path}`, method: 'POST', headers: { 'content-type': e.type }, body: e.body,
    connections, ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? SECONDS }),
  });
  const rejected = r.statusCodeStats?.['503']?.count ?? 0;
  const errors = r.non2xx - rejected + r.errors + r.timeouts;
  // served: the 200s per second; latency percentiles are over every answer, 503s included
  return { endpoint: name, connections, drainedMs, servedPerS: r['2xx'] / (r.duration || 1), p50Ms: r.latency.p50, p99Ms: r.latency.p99, total: r.requests.total, rejected503: rejected, errors };
}

const rows = [];
for (const name of ['translate', 'generate', 'detect'] as const) {
  for (const connections of [1, 8, 64]) {
    const row = await load(name, connections);
    rows.push(row);
    console.log(`${name.padEnd(9)} ${String(connections).padStart(2)} connections: ${row.servedPerS.toFixed(1).padStart(6)} served/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms; ${row.total} requests, ${row.rejected503} × 503, ${row.errors} errors (idle after ${row.drainedMs.toFixed(0)} ms)`);
  }
}

async function soak(name: keyof typeof endpoints) {
  await idle();
  const before = process.memoryUsage().rss;
  const r = await load(name, 8, { amount: 10_000 });
  const after = process.memoryUsage().rss;
  const growth = after / before - 1;
  console.log(`10,000 ${name} requests (8 connections): ${r.errors} errors, ${r.rejected503} × 503; ` +
    `RSS ${(before / 2 ** 20).toFixed(0)} → ${(after / 2 ** 20).toFixed(0)} MiB (${(growth * 100).toFixed(1)} %)`);
  return { endpoint: name, requests: 10_000, errors: r.errors, rejected503: r.rejected503, rssBeforeMiB: before / 2 ** 20, rssAfterMiB: after / 2 ** 20, growth };
}
const soaks = [await soak('translate'), await soak('generateShort')];

await server.close();
const out = new URL('./results/serve.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ version: 1, date: new Date().toISOString(), system: systemInfo(2), seconds: SECONDS, rows, soaks }, null, 2)}\n`);
console.log(`wrote ${fileURLToPath(out)}`);
