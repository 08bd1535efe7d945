import { createServer } from 'node:net';
import os from 'node:os';
import type { Command } from 'commander';
import { DEFAULT_MODELS, MAX_SECONDS, SERVE_LIMITS } from '../tasks/defaults.js';
import { EXIT, errorText, exitCodeOf, usage } from './exit.js';
import { parseNumber, workersOption } from './options.js';

interface ServeFlags {
  port: number;
  host: string;
  translate: string;
  generate: string;
  detect: string;
  classify: string;
  segment: string;
  workers?: number;
  maxInFlight?: number;
  retries: number;
  timeoutMs: number;
  maxBodyMb: number;
  maxTexts: number;
  maxChars: number;
  maxSeconds: number;
  maxPixels: number;
  log?: boolean;
}

/** `hibiki serve`: the models over HTTP until SIGTERM or SIGINT, which drain the requests in flight first. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the models over HTTP (POST /v1/translate, /v1/generate, /v1/detect, /v1/classify, /v1/segment)')
    .option('-p, --port <n>', 'TCP port (0 = any free port)', parseNumber('--port', 0, 65535, true), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--translate <dir>', 'translation model ("none" to leave out)', DEFAULT_MODELS.translator)
    .option('--generate <dir>', 'WaveNet model ("none" to leave out)', DEFAULT_MODELS.generator)
    .option('--detect <dir>', 'detector model ("none" to leave out)', DEFAULT_MODELS.detector)
    .option('--classify <dir>', 'image classifier ("none" to leave out)', DEFAULT_MODELS.classifier)
    .option('--segment <dir>', 'segmentation model ("none" to leave out)', DEFAULT_MODELS.segmenter)
    .addOption(workersOption('per model; default: one per core; 0 = in the server thread'))
    .option('--retries <n>', 'times a task whose worker died runs again before its request fails', parseNumber('--retries', 0, 10, true), 1)
    .option('--max-in-flight <n>', 'requests running at once before 503 (default: 4 per worker)', parseNumber('--max-in-flight', 1, 100000, true))
    .option('--timeout-ms <ms>', 'per-request deadline', parseNumber('--timeout-ms', 1, 3_600_000), 60_000)
    .option('--max-body-mb <mb>', 'largest request body', parseNumber('--max-body-mb', 0.001, 1024), SERVE_LIMITS.bodyBytes / 2 ** 20)
    .option('--max-texts <n>', 'texts per translate request', parseNumber('--max-texts', 1, 100000, true), SERVE_LIMITS.texts)
    .option('--max-chars <n>', 'characters per text', parseNumber('--max-chars', 1, 1_000_000, true), SERVE_LIMITS.charsPerText)
    .option('--max-seconds <s>', 'seconds of audio per generate request', parseNumber('--max-seconds', 0.001, MAX_SECONDS), SERVE_LIMITS.seconds)
    .option('--max-pixels <n>', 'pixels per image', parseNumber('--max-pixels', 1, 1e9, true), SERVE_LIMITS.imagePixels)
    .option('--log', 'structured request logs (JSON lines on stdout)')
    .action(async (flags: ServeFlags) => {
      // Before the models load (seconds): a port that is taken or a host that is not this machine's.
      await checkListen(flags.host, flags.port);
      const model = (dir: string) => (dir === 'none' ? undefined : dir);
      const { startServer } = await import('../serve/server.js'); // Fastify loads only here
      const server = await startServer({
        translate: model(flags.translate), generate: model(flags.generate), detect: model(flags.detect),
        classify: model(flags.classify), segment: model(flags.segment),
        workers: flags.workers ?? os.availableParallelism(),
        maxInFlight: flags.maxInFlight, retries: flags.retries, timeoutMs: flags.timeoutMs, logger: flags.log ?? false,
        limits: { bodyBytes: Math.round(flags.maxBodyMb * 2 ** 20), texts: flags.maxTexts, charsPerText: flags.maxChars, seconds: flags.maxSeconds, imagePixels: flags.maxPixels },
      });
      let address: string;
      try {
        address = await server.app.listen({ port: flags.port, host: flags.host });
      } catch (e) {
        // Taken since checkListen, by another process.
        await server.close();
        listenError(flags.host, flags.port, e);
      }
      console.error(`hibiki serve: listening on ${address}`);
      let closing = false;
      const drain = (signal: string) => {
        if (closing) return;
        closing = true;
        console.error(`hibiki serve: ${signal}, draining requests in flight`);
        server.close().then(() => process.exit(EXIT.ok), (e: unknown) => {
          console.error(errorText(e));
          process.exit(exitCodeOf(e));
        });
      };
      process.on('SIGTERM', () => drain('SIGTERM'));
      process.on('SIGINT', () => drain('SIGINT'));
    });
}

/**
 * Listening on `host`:`port` failed: a usage error naming the flag at fault
 * (the address on the command line cannot be used), one line, no stack.
 */
function listenError(host: string, port: number, e: unknown): never {
  const { code, message } = e as NodeJS.ErrnoException;
  switch (code) {
    case 'EADDRINUSE':
      return usage(`--port ${port}: ${host}:${port} is already in use`);
    case 'EACCES':
      return usage(`--port ${port}: not allowed to listen on ${host}:${port}${port < 1024 ? ' (ports below 1024 need privileges)' : ''} (EACCES)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return usage(`--host ${host}: cannot resolve this host name (${code})`);
    case 'EADDRNOTAVAIL':
      return usage(`--host ${host}: not an address of this machine (EADDRNOTAVAIL)`);
    default:
      return usage(`--host ${host} --port ${port}: cannot listen: ${message}`);
  }
}

/** Listens on `host`:`port` and closes at once: what would stop the server from listening, found before it loads models. */
async function checkListen(host: string, port: number): Promise<void> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (e) {
    listenError(host, port, e);
  }
  await new Promise((resolve) => probe.close(resolve));
}
