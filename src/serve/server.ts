/**
 * `hibiki serve`: the engine over HTTP (Fastify). Each endpoint runs on its
 * model's worker pool:
 *
 *   POST /v1/translate  {texts, references?, beam?, nBest?, lengthPenalty?} → {translations, bleu?}
 *   POST /v1/generate   {seconds, condition?, temperature?, seed?}          → audio/wav
 *   POST /v1/detect     PNG or JPEG bytes (?score=&iou=&maxResults=)        → COCO-style detections
 *   POST /v1/classify   PNG or JPEG bytes (?top=)                           → classes, most probable first
 *   POST /v1/segment    PNG or JPEG bytes                                   → a COCO RLE mask per class
 *   GET  /healthz, GET /metrics (Prometheus text)
 *
 * Every error answer is `{error, message}` with `error` one of HibikiError's
 * codes, Fastify's own (validation, body size, content type, unknown route)
 * included.
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
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, HibikiError, optionalImport } from '../errors.js';
import { imageHeader } from '../io/image.js';
import { corpusBleu } from '../metrics/bleu.js';
import { SERVE_LIMITS } from '../tasks/defaults.js';
import { Generator } from '../tasks/generator.js';
import { Translator } from '../tasks/translator.js';
import { Classifier, Detector, Segmenter, classMasks } from '../tasks/vision.js';
import { VERSION } from '../version.js';

// The server's packages are optional peer dependencies: only a user of hibiki/serve installs them.
const SERVE_PACKAGES = ['fastify', 'prom-client'];
const { default: Fastify } = await optionalImport(() => import('fastify'), 'hibiki serve (hibiki/serve)', SERVE_PACKAGES);
const { Counter, Gauge, Histogram, Registry } = await optionalImport(() => import('prom-client'), 'hibiki serve (hibiki/serve)', SERVE_PACKAGES);

export interface ServeLimits {
  bodyBytes: number;
  texts: number;
  charsPerText: number;
  seconds: number;
  imagePixels: number;
}

/** A number from 0 to 1 as query text. */
const FRACTION = '^(0(\\.[0-9]+)?|1(\\.0+)?)$';

/** The limits a server applies when not told otherwise (tasks/defaults.ts). */
export const DEFAULT_LIMITS: ServeLimits = SERVE_LIMITS;

export interface ServeOptions {
  /** Model directories; an endpoint whose model is not given answers 404. */
  translate?: string;
  generate?: string;
  detect?: string;
  classify?: string;
  segment?: string;
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
  models: { translator?: Translator; generator?: Generator; detector?: Detector; classifier?: Classifier; segmenter?: Segmenter };
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
  const [translator, generator, detector, classifier, segmenter] = await Promise.all([
    options.translate ? Translator.open(options.translate, workers) : undefined,
    options.generate ? Generator.open(options.generate, workers) : undefined,
    options.detect ? Detector.open(options.detect, workers) : undefined,
    options.classify ? Classifier.open(options.classify, workers) : undefined,
    options.segment ? Segmenter.open(options.segment, workers) : undefined,
  ]);
  const models = { translator, generator, detector, classifier, segmenter };

  const registry = new Registry();
  const requests = new Counter({ name: 'hibiki_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const latency = new Histogram({ name: 'hibiki_http_request_seconds', help: 'request latency', labelNames: ['route'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] });
  const inFlightGauge = new Gauge({ name: 'hibiki_requests_in_flight', help: 'requests running (the queue depth)', registers: [registry] });
  const pools = () => Object.values(models).map((m) => m?.pool).filter((p) => p !== undefined);
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

  // Fastify's own refusals in our shape: {error: code, message}
  const refuse = (reply: FastifyReply, status: number, error: ErrorCode, message: string) => reply.code(status).send({ error, message });
  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413) return refuse(reply, 413, 'E_TOO_LARGE', error.message);
    if (status >= 400 && status < 500) return refuse(reply, status, 'E_BAD_INPUT', error.message);
    return refuse(reply, 500, 'E_INTERNAL', error.message);
  });
  app.setNotFoundHandler((request, reply) => refuse(reply, 404, 'E_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));

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
      refuse(reply.header('retry-after', '1'), 503, 'E_OVERLOADED', `${maxInFlight} requests are running; retry shortly`);
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
      refuse(reply, status, deadline.aborted ? 'E_TIMEOUT' : error.code, message);
      return undefined;
    } finally {
      inFlight--;
      inFlightGauge.set(inFlight);
    }
  }

  const notLoaded = (reply: FastifyReply, what: string) => refuse(reply, 404, 'E_NOT_FOUND', `this server has no ${what} model`);

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
    if (!translator) return notLoaded(reply, 'translation');
    const body = request.body as { texts: string[]; references?: string[]; beam?: number; nBest?: number; lengthPenalty?: number };
    if (body.references && body.references.length !== body.texts.length) {
      return refuse(reply, 400, 'E_BAD_INPUT', `${body.references.length} references for ${body.texts.length} texts`);
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
    if (!generator) return notLoaded(reply, 'generation');
    const body = request.body as { seconds: number; condition?: string; temperature?: number; seed?: number };
    return admitted(request, reply, async (signal) => {
      const { clips, failures } = await generator.generate({ ...body, signal });
      if (failures.length) throw failures[0]!.error;
      reply.type('audio/wav');
      return Buffer.from(generator.wav(clips[0]!));
    });
  });

  /**
   * An endpoint that takes one image as the body: checks the bytes are PNG or JPEG and the pixels within the
   * limit from the header alone, then runs `work` on the image as one admitted request.
   */
  function imageRoute<M, Q extends Record<string, string | undefined>>(
    url: string, what: string, model: M | undefined, query: Record<string, { type: 'string'; pattern: string }>,
    work: (model: M, bytes: Buffer, query: Q, signal: AbortSignal) => Promise<object>,
  ): void {
    app.post(url, { schema: { querystring: { type: 'object', additionalProperties: false, properties: query } } }, async (request, reply) => {
      if (!model) return notLoaded(reply, what);
      const bytes = request.body;
      if (!(bytes instanceof Buffer)) return refuse(reply, 415, 'E_BAD_INPUT', 'send the image bytes as image/png, image/jpeg or application/octet-stream');
      let header;
      try {
        header = imageHeader(bytes, 'body');
      } catch (e) {
        return refuse(reply, 400, 'E_BAD_INPUT', (e as Error).message);
      }
      if (header.width * header.height > limits.imagePixels) {
        return refuse(reply, 413, 'E_TOO_LARGE', `image is ${header.width}×${header.height}, over the limit of ${limits.imagePixels} pixels`);
      }
      return admitted(request, reply, async (signal) => ({ width: header.width, height: header.height, ...(await work(model, bytes, request.query as Q, signal)) }));
    });
  }
  /** Query values arrive as text: checked by the schema's pattern, converted here. */
  const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  /** The one image's result, or its error. */
  const only = <T>({ results, failures }: { results: Array<T | undefined>; failures: ReadonlyArray<{ error: HibikiError }> }): T => {
    if (failures.length) throw failures[0]!.error;
    return results[0]!;
  };

  imageRoute<Detector, { score?: string; iou?: string; maxResults?: string }>('/v1/detect', 'detection', detector,
    { score: { type: 'string', pattern: FRACTION }, iou: { type: 'string', pattern: FRACTION }, maxResults: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } },
    async (model, bytes, query, signal) => {
      const found = only(await model.detect([bytes], { score: number(query.score), iou: number(query.iou), maxResults: number(query.maxResults), signal }));
      return { detections: found.map((d) => ({ category_id: 1, label: d.label, bbox: d.bbox, score: d.score })) };
    });

  imageRoute<Classifier, { top?: string }>('/v1/classify', 'classification', classifier, { top: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } },
    async (model, bytes, query, signal) => ({ classes: only(await model.classify([bytes], { top: number(query.top), signal })) }));

  imageRoute('/v1/segment', 'segmentation', segmenter, {},
    async (model, bytes, _query, signal) => ({ segments: classMasks(only(await model.segment([bytes], { signal })), model.labels) }));

  app.get('/healthz', async () => ({ status: 'ok', version: VERSION, inFlight, models: { translate: !!translator, generate: !!generator, detect: !!detector, classify: !!classifier, segment: !!segmenter } }));
  app.get('/metrics', async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });

  return {
    app,
    models,
    async close() {
      closing = true;
      await app.close();
      await Promise.all(Object.values(models).map((m) => m?.close()));
    },
  };
}
