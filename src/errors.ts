/**
 * One error class for everything hibiki throws on purpose. Callers branch on
 * the stable `code`; people read the `message`, which names what was wrong and
 * where (file, tensor, argument) and what was expected.
 */
export type ErrorCode =
  | 'E_BAD_INPUT'
  | 'E_SHAPE'
  | 'E_MODEL_FORMAT'
  | 'E_IO'
  | 'E_RESOURCE'
  | 'E_TIMEOUT'
  | 'E_ABORTED'
  | 'E_INTERNAL';

export class HibikiError extends Error {
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
