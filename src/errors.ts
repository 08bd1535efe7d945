/**
 * One error class for everything hibiki throws on purpose. Callers branch on
 * the stable `code`; people read the `message`, which names what was wrong and
 * where (file, tensor, argument) and what was expected.
 */
export type ErrorCode =
  /** An argument, request or input file is wrong (HTTP 400; the CLI exits 1 for data, 2 for its own flags: docs/cli.md). */
  | 'E_BAD_INPUT'
  /** A tensor or input has the wrong shape for the model or kernel (HTTP 400). */
  | 'E_SHAPE'
  /** A model directory is not what it claims: config.json, safetensors header, tensor names or sizes, tokenizer. */
  | 'E_MODEL_FORMAT'
  /** A file could not be read or written (missing, unreadable, disk full). */
  | 'E_IO'
  /** The engine ran out of WebAssembly memory or scratch space for the work asked of it. */
  | 'E_RESOURCE'
  /** A deadline passed (HTTP 504). */
  | 'E_TIMEOUT'
  /** The caller's AbortSignal fired (HTTP 499: the client went away). */
  | 'E_ABORTED'
  /** hibiki serve: every request slot is taken; retry after the Retry-After seconds (HTTP 503). */
  | 'E_OVERLOADED'
  /** hibiki serve: a body, image or request over the server's limits, refused before the work (HTTP 413). */
  | 'E_TOO_LARGE'
  /** hibiki serve: no such route, or the server was started without that model (HTTP 404). */
  | 'E_NOT_FOUND'
  /** An optional package a feature needs is not installed (the server's, the queue's): the message names what to install. */
  | 'E_DEPENDENCY'
  /** A bug or a lost worker: the message says which; the request or shard did not finish (HTTP 500). */
  | 'E_INTERNAL';

/**
 * The one error class hibiki throws on purpose: branch on `code`, show
 * `message` to people. A cancelled call's error is a HibikiError too, named
 * 'AbortError', with code E_ABORTED and the signal's reason as `cause`.
 */
export class HibikiError extends Error {
  /** What went wrong, stable across releases: one of ErrorCode. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HibikiError';
    this.code = code;
  }
}

export const badInput = (message: string) => new HibikiError('E_BAD_INPUT', message);
export const shapeError = (message: string) => new HibikiError('E_SHAPE', message);
export const modelFormat = (file: string, message: string) => new HibikiError('E_MODEL_FORMAT', `${file}: ${message}`);

/**
 * Imports an optional peer dependency (fastify for the server, bullmq for the
 * queue…): a user who only imports the library never installs them. When one
 * is missing the error names the feature and the packages to install.
 */
export async function optionalImport<T>(load: () => Promise<T>, feature: string, packages: readonly string[]): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw cause;
    throw new HibikiError('E_DEPENDENCY', `${feature} needs ${packages.join(' and ')}, which are not installed: npm install ${packages.join(' ')}`, { cause });
  }
}
