/**
 * `hibiki serve`: the engine over HTTP (Fastify). Each endpoint runs on its
 * model's worker pool:
 *
 *   POST /v1/translate  {texts, references?, beam?, nBest?, lengthPenalty?} → {translations, bleu?}
 *   POST /v1/generate   {seconds, condition?, temperature?, seed?}          → audio/wav
 *   POST /v1/detect     PNG or JPEG bytes (?score=&iou=&maxResults=)        → COCO-style detections
 *   GET  /healthz, GET /metrics (Prometheus text)
 *
 * Limits answer with a 4xx before any work of that size starts: body bytes
 * (Fastify's bodyLimit, 413), texts per request and characters per text
 * (schema, 400), seconds of audio (400), image pixels (read from the
 * header, 413). Overload: at most `maxInFlight` requests run; the next gets
 * 503 with Retry-After instead of waiting in an unbounded backlog. Every
 * request has a deadline (504 when it passes) and is cancelled if the client
 * goes away; on workers a running shard stops at its next step, in the
 * server's own thread (workers 0) only between shards. `close()` stops accepting, lets requests in flight finish, then
 * stops the workers.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HibikiError } from '../errors.js';
import { imageHeader } from '../io/image.js';
import { corpusBleu } from '../metrics/bleu.js';
import { Generator } from '../models/generator.js';
import { Translator } from '../models/translator.js';
import { Detector } from '../models/vision.js';
import { VERSION } from '../version.js';

export interface ServeLimits {
  bodyBytes: number;
  texts: number;
  charsPerText: number;
  seconds: number;
  imagePixels: number;
}

/** A number from 0 to 1 as query text. */
const FRACTION = '^(0(\\.[0-9]+)?|1(\\.0+)?)$';

export const DEFAULT_LIMITS: ServeLimits = { bodyBytes: 16 * 2 ** 20, texts: 256, charsPerText: 2000, seconds: 30, imagePixels: 40_000_000 };

export interface ServeOptions {
  /** Model directories; an endpoint whose model is not given answers 404. */
  translate?: string;
  generate?: string;
  detect?: string;
  /** Workers per model (0 = in the server's thread). */
  workers: number;
  /** Times a task whose worker died runs again before its request fails with 500 (default 1). */
  retries?: number;
  limits?: Partial<ServeLimits>;
  /** Requests running at once, across endpoints; more get 503. */
  maxInFlight?: number;
  /** Per-request deadline. */
  timeoutMs?: number;
  logger?: boolean;
}

export interface Server {
  app: FastifyInstance;
  /** The models behind the endpoints (undefined where not served). */
  models: { translator?: Translator; generator?: Generator; detector?: Detector };
  /** Stops accepting, waits for requests in flight, stops the workers. */
  close(): Promise<void>;
}

/** An HTTP status for one of our errors. */
function statusOf(e: HibikiError, timedOut: boolean): number {
  if (timedOut) return 504;
  switch (e.code) {
    case 'E_BAD_INPUT': case 'E_SHAPE': return 400;
    case 'E_ABORTED': return 499;
    case 'E_TIMEOUT': return 504;
    default: return 500;
  }
}

export async function startServer(options: ServeOptions): Promise<Server> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const maxInFlight = options.maxInFlight ?? Math.max(2, 4 * options.workers);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const workers = { workers: options.workers, retries: options.retries };
  const [translator, generator, detector] = await Promise.all([
    options.translate ? Translator.open(options.translate, workers) : undefined,
    options.generate ? Generator.open(options.generate, workers) : undefined,
    options.detect ? Detector.open(options.detect, workers) : undefined,
  ]);

  const registry = new Registry();
  const requests = new Counter({ name: 'hibiki_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const latency = new Histogram({ name: 'hibiki_http_request_seconds', help: 'request latency', labelNames: ['route'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] });
  const inFlightGauge = new Gauge({ name: 'hibiki_requests_in_flight', help: 'requests running (the queue depth)', registers: [registry] });
  const pools = () => [translator?.pool, generator?.pool, detector?.pool].filter((p) => p !== undefined);
  new Gauge({
    name: 'hibiki_worker_restarts', help: 'workers replaced since start: lost mid-task or recycled for their heap', registers: [registry],
    collect() { this.set(pools().reduce((n, p) => n + p.stats.workersLost + p.stats.recycled, 0)); },
  });
  new Gauge({
    name: 'hibiki_tasks_retried', help: 'tasks run again after their worker died', registers: [registry],
    collect() { this.set(pools().reduce((n, p) => n + p.stats.retried, 0)); },
  });
  const rejected = new Counter({ name: 'hibiki_requests_rejected_total', help: 'requests answered 503 because maxInFlight were running', registers: [registry] });

  // strict schemas: no type coercion (Fastify's default would wrap a string into an array of texts) and unknown fields refused, not dropped
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: limits.bodyBytes, ajv: { customOptions: { coerceTypes: false, removeAdditional: false } } });
  app.addContentTypeParser(['image/png', 'image/jpeg', 'application/octet-stream'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // every answer counts, the 4xx of validation and limits included
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ route, status: reply.statusCode });
    latency.observe({ route }, reply.elapsedTime / 1000);
  });

  // While draining, answers close their connection: a keep-alive socket left open would hold close() up
  // for the keep-alive timeout after the last request finished.
  let closing = false;
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  let inFlight = 0;
  /** Runs `work` as one request in flight with a deadline; maps our errors to statuses. */
  async function admitted<T>(request: FastifyRequest, reply: FastifyReply, work: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    if (inFlight >= maxInFlight) {
      rejected.inc();
      reply.code(503).header('retry-after', '1').send({ error: 'E_OVERLOADED', message: `${maxInFlight} requests are running; retry shortly` });
      return undefined;
    }
    inFlight++;
    inFlightGauge.set(inFlight);
    const deadline = AbortSignal.timeout(timeoutMs);
    const gone = new AbortController();
    // the response closing before it finished means the client went away (the request's own 'close' fires once its body is read)
    reply.raw.on('close', () => { if (!reply.raw.writableFinished) gone.abort(); });
    try {
      return await work(AbortSignal.any([deadline, gone.signal]));
    } catch (e) {
      const error = e instanceof HibikiError ? e : new HibikiError('E_INTERNAL', String(e), { cause: e });
      const status = statusOf(error, deadline.aborted);
      const message = deadline.aborted ? `timed out after ${timeoutMs} ms` : error.message;
      reply.code(status).send({ error: deadline.aborted ? 'E_TIMEOUT' : error.code, message });
      return undefined;
    } finally {
      inFlight--;
      inFlightGauge.set(inFlight);
    }
  }

  const notLoaded = (what: string) => ({ error: 'E_NOT_FOUND', message: `this server has no ${what} model` });

  app.post('/v1/translate', {
    schema: {
      body: {
        type: 'object', required: ['texts'], additionalProperties: false,
        properties: {
          texts: { type: 'array', maxItems: limits.texts, items: { type: 'string', maxLength: limits.charsPerText } },
          references: { type: 'array', maxItems: limits.texts, items: { type: 'string', maxLength: limits.charsPerText } },
          beam: { type: 'integer', minimum: 1, maximum: 16 },
          nBest: { type: 'integer', minimum: 1, maximum: 16 },
          lengthPenalty: { type: 'number', minimum: 0, maximum: 5 },
        },
      },
    },
  }, async (request, reply) => {
    if (!translator) return reply.code(404).send(notLoaded('translation'));
    const body = request.body as { texts: string[]; references?: string[]; beam?: number; nBest?: number; lengthPenalty?: number };
    if (body.references && body.references.length !== body.texts.length) {
      return reply.code(400).send({ error: 'E_BAD_INPUT', message: `${body.references.length} references for ${body.texts.length} texts` });
    }
    return admitted(request, reply, async (signal) => {
      const { translations, failures } = await translator.translate(body.texts, { beam: body.beam, nBest: body.nBest, lengthPenalty: body.lengthPenalty, signal });
      if (failures.length) throw failures[0]!.error;
      const texts = translations.map((t) => t!.text);
      const bleu = body.references ? corpusBleu(texts, [body.references]) : undefined;
      return {
        translations: translations.map((t) => ({ text: t!.text, hypotheses: t!.hypotheses })),
        ...(bleu ? { bleu: { score: bleu.score, signature: bleu.signature, line: bleu.verbose } } : {}),
      };
    });
  });

  app.post('/v1/generate', {
    schema: {
      body: {
        type: 'object', required: ['seconds'], additionalProperties: false,
        properties: {
          seconds: { type: 'number', exclusiveMinimum: 0, maximum: limits.seconds },
          condition: { type: 'string', maxLength: 64 },
          temperature: { type: 'number', minimum: 0, maximum: 10 },
          seed: { type: 'integer', minimum: 0, maximum: 2 ** 31 },
        },
      },
    },
  }, async (request, reply) => {
    if (!generator) return reply.code(404).send(notLoaded('generation'));
    const body = request.body as { seconds: number; condition?: string; temperature?: number; seed?: number };
    return admitted(request, reply, async (signal) => {
      const { clips, failures } = await generator.generate({ ...body, signal });
      if (failures.length) throw failures[0]!.error;
      reply.type('audio/wav');
      return Buffer.from(generator.wav(clips[0]!));
    });
  });

  app.post('/v1/detect', {
    schema: {
      querystring: {
        type: 'object', additionalProperties: false,
        // query values arrive as text; checked here, converted below
        properties: { score: { type: 'string', pattern: FRACTION }, iou: { type: 'string', pattern: FRACTION }, maxResults: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } },
      },
    },
  }, async (request, reply) => {
    if (!detector) return reply.code(404).send(notLoaded('detection'));
    const bytes = request.body;
    if (!(bytes instanceof Buffer)) return reply.code(415).send({ error: 'E_BAD_INPUT', message: 'send the image bytes as image/png, image/jpeg or application/octet-stream' });
    let header;
    try {
      header = imageHeader(bytes, 'body');
    } catch (e) {
      return reply.code(400).send({ error: 'E_BAD_INPUT', message: (e as Error).message });
    }
    if (header.width * header.height > limits.imagePixels) {
      return reply.code(413).send({ error: 'E_TOO_LARGE', message: `image is ${header.width}×${header.height}, over the limit of ${limits.imagePixels} pixels` });
    }
    const query = request.query as { score?: string; iou?: string; maxResults?: string };
    const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    return admitted(request, reply, async (signal) => {
      const options = { score: number(query.score), iou: number(query.iou), maxResults: number(query.maxResults), signal };
      const { results, failures } = await detector.detect([bytes], options);
      if (failures.length) throw failures[0]!.error;
      return { width: header.width, height: header.height, detections: results[0]!.map((d) => ({ category_id: 1, label: d.label, bbox: d.bbox, score: d.score })) };
    });
  });

  app.get('/healthz', async () => ({ status: 'ok', version: VERSION, inFlight, models: { translate: !!translator, generate: !!generator, detect: !!detector } }));
  app.get('/metrics', async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });

  return {
    app,
    models: { translator, generator, detector },
    async close() {
      closing = true;
      await app.close();
      await Promise.all([translator?.close(), generator?.close(), detector?.close()]);
    },
  };
}
