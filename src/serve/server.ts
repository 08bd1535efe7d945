/**
 * `hibiki serve`: the engine over HTTP (Fastify). Each endpoint runs on its
 * model's worker pool:
 *
 *   POST /v1/translate  {texts, references?, beam?, nBest?, lengthPenalty?} → {translations, bleu?}
 *   POST /v1/generate   {seconds, condition?, temperature?, minP?, seed?, prompt?} → audio/wav
 *   POST /v1/detect     PNG or JPEG bytes (?score=&iou=&maxResults=)        → COCO-style detections
 *   POST /v1/classify   PNG or JPEG bytes (?top=)                           → classes, most probable first
 *   POST /v1/segment    PNG or JPEG bytes                                   → a COCO RLE mask per class
 *   GET  /healthz, GET /metrics (Prometheus text)
 *
 * Two ways in: `hibikiPlugin`, registered in a Fastify app of one's own
 * (under a prefix, with the app's logger, its metrics in the app's
 * prom-client Registry if given one), and `startServer`, which makes a
 * Fastify app of its own with the plugin in it (what `hibiki serve` runs).
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
 * server's own thread (workers 0) only between shards. Closing the app stops
 * accepting, lets requests in flight finish, then stops the workers.
 */
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry as MetricsRegistry } from 'prom-client';
import { type ErrorCode, HibikiError, optionalImport } from '../errors.js';
import { MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, imageDimensions, withinImageLimits } from '../io/image.js';
import { corpusBleu } from '../metrics/bleu.js';
import type { PoolStats } from '../pool/pool.js';
import { MAX_TEMPERATURE, SERVE_LIMITS } from '../tasks/defaults.js';
import { Generator } from '../tasks/generator.js';
import type { OpenOptions } from '../tasks/runner.js';
import { Translator } from '../tasks/translator.js';
import { Classifier, Detector, Segmenter, classMasks } from '../tasks/vision.js';
import { VERSION } from '../version.js';

// The server's packages are optional peer dependencies: only a user of hibiki/serve installs them.
const SERVE_PACKAGES = ['fastify', 'prom-client'];
const { default: Fastify } = await optionalImport(() => import('fastify'), 'hibiki serve (hibiki/serve)', SERVE_PACKAGES);
const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = await optionalImport(() => import('prom-client'), 'hibiki serve (hibiki/serve)', SERVE_PACKAGES);

/**
 * The plugin's routes validate with Ajv options of their own, whatever the
 * host app's: no type coercion (Fastify's default would wrap a string into
 * an array of texts) and unknown fields refused, not dropped. The compiler
 * is Fastify's own, resolved from fastify (its dependency, not ours), so the
 * rest of Fastify's defaults (formats, useDefaults, allErrors off) hold.
 */
type AjvCompilerFactory = () => (externalSchemas: object, options: { customOptions: object }) => (route: { schema: object }) => (data: unknown) => boolean;
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));
const strictValidator = (fastifyRequire('@fastify/ajv-compiler') as AjvCompilerFactory)()({}, { customOptions: { coerceTypes: false, removeAdditional: false } });

/** What one request may ask for; a request over a limit is refused before any work of that size. */
export interface ServeLimits {
  /** Bytes of a request body (413 over it). */
  bodyBytes: number;
  /** Texts per translate request. */
  texts: number;
  /** Characters per text. */
  charsPerText: number;
  /** Seconds of audio per generate request. */
  seconds: number;
  /** Pixels per image, read from the image's header (413 over it). */
  imagePixels: number;
}

/** A number from 0 to 1 as query text. */
const FRACTION = '^(0(\\.[0-9]+)?|1(\\.0+)?)$';

/** The limits a server applies when not told otherwise (tasks/defaults.ts). */
export const DEFAULT_LIMITS: ServeLimits = SERVE_LIMITS;

/** How `startServer` serves: the models, the workers that run them, the limits. */
export interface ServeOptions {
  /** Model directories; an endpoint whose model is not given answers 404. */
  translate?: string;
  /** The WaveNet behind POST /v1/generate. */
  generate?: string;
  /** The detector behind POST /v1/detect. */
  detect?: string;
  /** The image classifier behind POST /v1/classify. */
  classify?: string;
  /** The segmentation model behind POST /v1/segment. */
  segment?: string;
  /** Workers per model (0 = in the server's thread). */
  workers: number;
  /** Times a task whose worker died runs again before its request fails with 500 (default 1). */
  retries?: number;
  /** Limits per request; those not given are DEFAULT_LIMITS'. */
  limits?: Partial<ServeLimits>;
  /** Requests running at once, across endpoints; more get 503 (default 4 per worker, at least 2). */
  maxInFlight?: number;
  /** Per-request deadline (default 60 000 ms; 504 past it). */
  timeoutMs?: number;
  /** Fastify's request logs, as JSON lines on stdout (default off). */
  logger?: boolean;
}

/**
 * The models a plugin serves. Each is a model directory, opened by the
 * plugin on `workers` and closed when the app closes, or a task object
 * already open, used as it is and left for its owner to close. An endpoint
 * whose model is not given answers 404.
 */
export interface ServedModels {
  translate?: string | Translator;
  generate?: string | Generator;
  detect?: string | Detector;
  classify?: string | Classifier;
  segment?: string | Segmenter;
}

/**
 * What `hibikiPlugin` takes besides Fastify's own `prefix`: the models and
 * the same workers, limits, admission and deadline as `startServer`, and the
 * prom-client Registry its metrics go in.
 */
export interface HibikiPluginOptions extends ServedModels, Omit<ServeOptions, keyof ServedModels | 'workers' | 'logger'> {
  /** Workers per model opened from a directory (default 0: in the app's thread). */
  workers?: number;
  /**
   * The Registry the plugin's metrics are registered in, e.g. the app's own
   * (its /metrics then shows them). Default: a Registry of the plugin's own,
   * with prom-client's default process metrics. Either way the plugin serves
   * it at `<prefix>/metrics`. Metric names are fixed, so one Registry takes
   * one hibiki plugin.
   */
  registry?: MetricsRegistry;
}

/** The task objects behind the endpoints (undefined where not served). */
export interface ServerModels {
  translator?: Translator;
  generator?: Generator;
  detector?: Detector;
  classifier?: Classifier;
  segmenter?: Segmenter;
}

/** A server `startServer` made: the Fastify app (not listening yet), its models, and how to stop it. */
export interface Server {
  /** The app: `app.listen({ port, host })` to serve, `app.inject()` to call it in process. */
  app: FastifyInstance;
  /** The models behind the endpoints (undefined where not served). */
  models: ServerModels;
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

/** Answers a refusal in our shape: `{error: code, message}`. */
const refuse = (reply: FastifyReply, status: number, error: ErrorCode, message: string) => reply.code(status).send({ error, message });

/**
 * Opens the models given as directories and takes those given open as they
 * are. Should one fail to open, the others opened here are closed again.
 */
async function openModels(given: ServedModels, options: OpenOptions): Promise<{ models: ServerModels; opened: Array<{ close(): Promise<void> }> }> {
  const opened: Array<{ close(): Promise<void> }> = [];
  const take = async <T extends { close(): Promise<void> }>(model: string | T | undefined, open: (dir: string) => Promise<T>): Promise<T | undefined> => {
    if (typeof model !== 'string') return model;
    const loaded = await open(model);
    opened.push(loaded);
    return loaded;
  };
  const loading = [
    take(given.translate, (dir) => Translator.open(dir, options)),
    take(given.generate, (dir) => Generator.open(dir, options)),
    take(given.detect, (dir) => Detector.open(dir, options)),
    take(given.classify, (dir) => Classifier.open(dir, options)),
    take(given.segment, (dir) => Segmenter.open(dir, options)),
  ] as const;
  await Promise.allSettled(loading); // every model that opened is in `opened` now
  try {
    const [translator, generator, detector, classifier, segmenter] = await Promise.all(loading);
    return { models: { translator, generator, detector, classifier, segmenter }, opened };
  } catch (error) {
    await Promise.all(opened.map((m) => m.close()));
    throw error;
  }
}

/**
 * The service as a Fastify plugin, for an app of one's own: its routes under
 * the `prefix` it is registered with, its logs through the app's logger, its
 * metrics in the app's Registry when given one. Closing the app drains the
 * requests in flight, then closes the models the plugin opened.
 *
 * @example
 * const app = Fastify({ logger: true });
 * await app.register(hibikiPlugin, { prefix: '/ml', translate: 'models/translate-en-ja', workers: 2, registry });
 * // POST /ml/v1/translate, GET /ml/healthz, and hibiki_* metrics in `registry`
 */
export const hibikiPlugin: FastifyPluginAsync<HibikiPluginOptions> = async (app, options) => {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const workers = options.workers ?? 0;
  const maxInFlight = options.maxInFlight ?? Math.max(2, 4 * workers);
  const timeoutMs = options.timeoutMs ?? 60_000;

  // Metrics first: a Registry that already holds them throws here, before any worker starts.
  const registry = options.registry ?? new Registry();
  if (!options.registry) collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'hibiki_http_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'hibiki_http_request_duration_seconds', help: 'time from request to answer, by route', labelNames: ['route'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry],
  });
  const inFlightGauge = new Gauge({ name: 'hibiki_requests_in_flight', help: 'requests running (the queue depth)', registers: [registry] });
  const rejected = new Counter({ name: 'hibiki_requests_rejected_total', help: 'requests answered 503 because maxInFlight were running', registers: [registry] });
  // A client that goes away gets no answer, so hibiki_http_requests_total never sees it: counted here.
  const disconnected = new Counter({
    name: 'hibiki_http_requests_disconnected_total', help: 'requests whose client went away before the answer (their work was cancelled), by route',
    labelNames: ['route'], registers: [registry],
  });
  // The pools count for themselves; these counters read their stats at each scrape.
  let pools: Array<[task: string, stats: PoolStats]> = [];
  const poolCounter = (name: string, help: string, count: (stats: PoolStats) => number) => new Counter({
    name, help, labelNames: ['task'], registers: [registry],
    collect() {
      this.reset();
      for (const [task, stats] of pools) this.inc({ task }, count(stats));
    },
  });
  poolCounter('hibiki_pool_worker_restarts_total', 'workers replaced: lost mid-task or recycled for their heap', (s) => s.workersLost + s.recycled);
  poolCounter('hibiki_pool_task_retries_total', 'tasks run again after their worker died', (s) => s.retried);

  const { models, opened } = await openModels(options, { workers, retries: options.retries });
  const { translator, generator, detector, classifier, segmenter } = models;
  app.addHook('onClose', async () => {
    await Promise.all(opened.map((m) => m.close()));
  });
  const served = { translate: translator, generate: generator, detect: detector, classify: classifier, segment: segmenter };
  pools = Object.entries(served).flatMap(([task, model]) => (model?.pool ? [[task, model.pool.stats] as [string, PoolStats]] : []));
  app.log.info({ models: Object.keys(served).filter((task) => served[task as keyof typeof served]), workers }, 'hibiki: models ready');

  app.setValidatorCompiler(strictValidator);
  const bodyTypes = ['image/png', 'image/jpeg', 'application/octet-stream'];
  for (const type of bodyTypes) if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type); // in this plugin only
  app.addContentTypeParser(bodyTypes, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Fastify's own refusals in our shape
  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413) return refuse(reply, 413, 'E_TOO_LARGE', error.message);
    if (status >= 400 && status < 500) return refuse(reply, status, 'E_BAD_INPUT', error.message);
    request.log.error({ err: error }, 'hibiki: request failed');
    return refuse(reply, 500, 'E_INTERNAL', error.message);
  });
  // Registered under a prefix ('/' included), unknown routes there are ours to answer, and counted;
  // registered without one, they stay the app's.
  if (app.prefix) app.setNotFoundHandler((request, reply) => refuse(reply, 404, 'E_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));

  // every answer counts, the 4xx of validation and limits included
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ route, status: reply.statusCode });
    latency.observe({ route }, reply.elapsedTime / 1000);
  });

  // While draining, answers close their connection: a keep-alive socket left open would hold close() up
  // for the keep-alive timeout after the last request finished.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
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
      if (gone.signal.aborted && !deadline.aborted) disconnected.inc({ route: request.routeOptions.url ?? 'unmatched' });
      const status = statusOf(error, deadline.aborted);
      if (status === 500) request.log.error({ err: error }, 'hibiki: request failed');
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
    bodyLimit: limits.bodyBytes,
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
    bodyLimit: limits.bodyBytes,
    schema: {
      body: {
        type: 'object', required: ['seconds'], additionalProperties: false,
        properties: {
          seconds: { type: 'number', exclusiveMinimum: 0, maximum: limits.seconds },
          condition: { type: 'string', maxLength: 64 },
          temperature: { type: 'number', minimum: 0, maximum: MAX_TEMPERATURE },
          minP: { type: 'number', minimum: 0, maximum: 1 },
          seed: { type: 'integer', minimum: 0, maximum: 2 ** 31 },
          prompt: { type: 'boolean' },
        },
      },
    },
  }, async (request, reply) => {
    if (!generator) return notLoaded(reply, 'generation');
    const body = request.body as { seconds: number; condition?: string; temperature?: number; minP?: number; seed?: number; prompt?: boolean };
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
    app.post(url, { bodyLimit: limits.bodyBytes, schema: { querystring: { type: 'object', additionalProperties: false, properties: query } } }, async (request, reply) => {
      if (!model) return notLoaded(reply, what);
      const bytes = request.body;
      if (!(bytes instanceof Buffer)) return refuse(reply, 415, 'E_BAD_INPUT', 'send the image bytes as image/png, image/jpeg or application/octet-stream');
      let header;
      try {
        header = imageDimensions(bytes, 'body');
      } catch (e) {
        return refuse(reply, 400, 'E_BAD_INPUT', (e as Error).message);
      }
      // Too many pixels for this server or for the decoders: either way the image is too large (413), not malformed.
      if (header.width * header.height > limits.imagePixels) {
        return refuse(reply, 413, 'E_TOO_LARGE', `image is ${header.width}×${header.height}, over the limit of ${limits.imagePixels} pixels`);
      }
      if (!withinImageLimits(header.width, header.height)) {
        return refuse(reply, 413, 'E_TOO_LARGE', `image is ${header.width}×${header.height}, over hibiki's limit of ${MAX_IMAGE_SIDE} pixels a side and ${MAX_IMAGE_PIXELS / 1e6} M pixels`);
      }
      return admitted(request, reply, async (signal) => ({ width: header.width, height: header.height, ...(await work(model, bytes, request.query as Q, signal)) }));
    });
  }
  /** Query values arrive as text: checked by the schema's pattern, converted here. */
  const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));

  imageRoute<Detector, { score?: string; iou?: string; maxResults?: string }>('/v1/detect', 'detection', detector,
    { score: { type: 'string', pattern: FRACTION }, iou: { type: 'string', pattern: FRACTION }, maxResults: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } },
    async (model, bytes, query, signal) => {
      const found = await model.detect(bytes, { score: number(query.score), iou: number(query.iou), maxResults: number(query.maxResults), signal });
      return { detections: found.map((d) => ({ category_id: 1, label: d.label, bbox: d.bbox, score: d.score })) };
    });

  imageRoute<Classifier, { top?: string }>('/v1/classify', 'classification', classifier, { top: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } },
    async (model, bytes, query, signal) => ({ classes: await model.classify(bytes, { top: number(query.top), signal }) }));

  imageRoute('/v1/segment', 'segmentation', segmenter, {},
    async (model, bytes, _query, signal) => ({ segments: classMasks(await model.segment(bytes, { signal }), model.labels) }));

  app.get('/healthz', async () => ({ status: 'ok', version: VERSION, inFlight, models: { translate: !!translator, generate: !!generator, detect: !!detector, classify: !!classifier, segment: !!segmenter } }));
  app.get('/metrics', async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
};

/**
 * Opens the models and makes a Fastify app serving them (hibikiPlugin under
 * the prefix '/', so unknown routes are answered in its shape too), not
 * listening yet: `server.app.listen(...)` to serve, `server.close()` to
 * drain and stop.
 *
 * @example
 * const server = await startServer({ translate: 'models/translate-en-ja', workers: 2 });
 * await server.app.listen({ port: 8080 });
 */
export async function startServer(options: ServeOptions): Promise<Server> {
  const { logger, ...served } = options;
  const { models, opened } = await openModels(options, { workers: options.workers, retries: options.retries });
  try {
    const app = Fastify({ logger: logger ?? false, bodyLimit: { ...DEFAULT_LIMITS, ...options.limits }.bodyBytes });
    await app.register(hibikiPlugin, {
      ...served, prefix: '/',
      translate: models.translator, generate: models.generator, detect: models.detector, classify: models.classifier, segment: models.segmenter,
    });
    return {
      app,
      models,
      async close() {
        await app.close();
        await Promise.all(opened.map((m) => m.close()));
      },
    };
  } catch (error) {
    await Promise.all(opened.map((m) => m.close()));
    throw error;
  }
}
