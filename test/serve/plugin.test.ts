// hibiki/serve as a Fastify plugin in a user's own app: under their prefix, through their logger, its
// metrics in their prom-client Registry, and the rest of their app left as it was.
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { hibikiPlugin } from '../../src/serve/server.js';
import { Translator } from '../../src/tasks/translator.js';
import { Classifier } from '../../src/tasks/vision.js';

const TRANSLATE = fileURLToPath(new URL('../../models/translate-en-ja', import.meta.url));
const CLASSIFY = fileURLToPath(new URL('../../models/digits-densenet', import.meta.url));
const seven = readFileSync(new URL('../../samples/images/digits/7.png', import.meta.url));
const json = (payload: unknown) => ({ payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });

describe('hibikiPlugin in a user’s Fastify app', () => {
  it('serves under the prefix, logs through the app’s logger, counts in the app’s registry, and closes only what it opened', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({ write(chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done(); } });
    // Fastify's default Ajv options (coerceTypes 'array', removeAdditional): the plugin's routes must not take them
    const app = Fastify({ logger: { level: 'info', stream } });
    const registry = new Registry();
    new Counter({ name: 'app_things_total', help: 'the app’s own metric', registers: [registry] }).inc();
    app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
    app.get('/hello', async () => ({ hello: 'world' }));

    const classifier = await Classifier.open(CLASSIFY); // given open: the user's to close
    const closes = { translator: vi.spyOn(Translator.prototype, 'close'), classifier: vi.spyOn(Classifier.prototype, 'close') };
    await app.register(hibikiPlugin, { prefix: '/ml', translate: TRANSLATE, classify: classifier, registry, limits: { texts: 2 } });

    const classified = await app.inject({ method: 'POST', url: '/ml/v1/classify?top=2', payload: seven, headers: { 'content-type': 'image/png' } });
    expect(classified.statusCode, classified.body).toBe(200);
    expect(classified.json().classes).toEqual(await classifier.classify(seven, { top: 2 }));
    expect(classified.json().classes[0].label).toBe('7');
    const translated = await app.inject({ method: 'POST', url: '/ml/v1/translate', ...json({ texts: ['The cat is small.'] }) });
    expect(translated.json().translations.map((t: { text: string }) => t.text)).toEqual(['neko wa chiisai desu.']);

    // the plugin's own validation and limits, whatever the app's Ajv options
    const refusals: Array<[unknown, RegExp]> = [
      [{ texts: 'The cat is small.' }, /body\/texts must be array/],
      [{ texts: ['a'], extra: 1 }, /must NOT have additional properties/],
      [{ texts: ['a', 'b', 'c'] }, /must NOT have more than 2 items/],
    ];
    for (const [body, message] of refusals) {
      const r = await app.inject({ method: 'POST', url: '/ml/v1/translate', ...json(body) });
      expect([r.statusCode, r.json().error], JSON.stringify(body)).toEqual([400, 'E_BAD_INPUT']);
      expect(r.json().message).toMatch(message);
    }
    expect((await app.inject({ method: 'POST', url: '/ml/v1/detect', payload: seven, headers: { 'content-type': 'image/png' } })).json())
      .toEqual({ error: 'E_NOT_FOUND', message: 'this server has no detection model' });
    expect((await app.inject({ method: 'GET', url: '/ml/nothing' })).json()).toEqual({ error: 'E_NOT_FOUND', message: 'no route GET /ml/nothing' });
    expect((await app.inject({ method: 'GET', url: '/ml/healthz' })).json()).toMatchObject({ status: 'ok', models: { translate: true, classify: true, detect: false } });

    // the rest of the app is the app's: its routes, its 404
    expect((await app.inject({ method: 'GET', url: '/hello' })).json()).toEqual({ hello: 'world' });
    const unknown = await app.inject({ method: 'GET', url: '/nothing' });
    expect([unknown.statusCode, unknown.json().error]).toEqual([404, 'Not Found']);

    // the plugin's metrics in the app's registry, beside the app's own, on the app's /metrics and the plugin's
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^app_things_total 1$/m);
    expect(metrics).toMatch(/^hibiki_http_requests_total\{route="\/ml\/v1\/classify",status="200"\} 1$/m);
    expect(metrics).toMatch(/^hibiki_http_requests_total\{route="\/ml\/v1\/translate",status="400"\} 3$/m);
    expect(metrics).toMatch(/^hibiki_http_request_duration_seconds_count\{route="\/ml\/v1\/translate"\} 4$/m);
    expect(metrics).not.toMatch(/^process_cpu_user_seconds_total/m); // default metrics are the app's to collect
    expect((await app.inject({ method: 'GET', url: '/ml/metrics' })).body).toMatch(/^app_things_total 1$/m);

    // the app's logger: the plugin's own line, and Fastify's request lines for its routes
    expect(lines.find((l) => l.msg === 'hibiki: models ready')).toMatchObject({ level: 30, models: ['translate', 'classify'], workers: 0 });
    expect(lines.some((l) => l.msg === 'incoming request' && (l.req as { url: string }).url === '/ml/v1/classify?top=2')).toBe(true);

    // one registry takes one hibiki plugin: a second is refused before it opens a model
    const again = Fastify();
    await expect(again.register(hibikiPlugin, { prefix: '/ml', translate: TRANSLATE, registry })).rejects.toThrow(/hibiki_http_requests_total.*already been registered/);
    expect(closes.translator).not.toHaveBeenCalled();

    await app.close();
    expect(closes.translator).toHaveBeenCalledTimes(1); // opened from its directory by the plugin
    expect(closes.classifier).not.toHaveBeenCalled(); // given open
    expect((await classifier.classify(seven, { top: 1 }))[0]!.label).toBe('7');
    vi.restoreAllMocks();
  });
});
