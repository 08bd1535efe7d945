// The `hibiki` command's exit codes, in one place: what each means, which
// errors map to which, and the one line a failed command prints. docs/cli.md's
// table is rendered from EXIT_CODES (test/cli/docs.test.ts keeps it so).
import { CommanderError } from 'commander';
import { type ErrorCode, HibikiError } from '../errors.js';

export const EXIT = {
  ok: 0,
  /** The data, a model or the machine: a file unreadable or malformed, a model that fails, an item that failed, a write that failed midway. */
  failure: 1,
  /**
   * The command line: an unknown flag, a bad flag value, a missing argument, flags that do not go together,
   * an output path or a listening address that cannot be used (paths.ts, serve.ts: checked before any work).
   */
  usage: 2,
  /** `hibiki worker`'s second SIGINT or SIGTERM: 128 + the signal's number, as shells report it. */
  interrupted: 130,
  terminated: 143,
} as const;

/** One row per exit code, for the docs: the code, what it means, examples. */
export const EXIT_CODES: ReadonlyArray<{ code: number; meaning: string; examples: string }> = [
  { code: EXIT.ok, meaning: 'success', examples: 'also `--help` and `--version`' },
  {
    code: EXIT.failure,
    meaning: 'data error: an input or model file, or the work itself, failed; nothing is half-written',
    examples: 'a missing or unreadable input file; a file that is not UTF-8, not JSON, not a PNG; line counts that differ; ' +
      'a model directory that is missing or not the kind the command runs; ' +
      'some images or lines failed (the others are written; `translate` writes a failed line as an empty one); ' +
      'an output that fails while it is written (a full disk); an optional package (fastify, bullmq) not installed; Redis unreachable',
  },
  {
    code: EXIT.usage,
    meaning: 'usage error: the command line is wrong, or names an output or address that cannot be used; nothing was read or written',
    examples: 'an unknown flag; `--beam 0`; `--format mp3`; a missing `<refs...>`; `--resume` without `--output`; ' +
      '`generate -o -` with `--count 3`; `-q redis://…` (use `--queue`); `--gt - --dt -`; ' +
      'an output path that cannot be written, checked before any work: a folder where a file goes (`-o out/`), ' +
      'a file where a folder goes (`segment -o FILE`), a folder that does not exist, is under a file or takes no new files (read-only, `/proc`); ' +
      '`serve` on a port in use or a `--host` that is not this machine\'s',
  },
  { code: EXIT.interrupted, meaning: '`hibiki worker` stopped at once by a second SIGINT (the first finishes the running shards, then exits 0)', examples: 'Ctrl-C twice' },
  { code: EXIT.terminated, meaning: '`hibiki worker` stopped at once by a second SIGTERM', examples: '' },
];

/**
 * Every HibikiError code the library throws, as the CLI exits on it. All are
 * data errors: a flag's value (an output path included) is checked by the
 * command before the library sees it, and one the library refuses is turned
 * into a usage error there.
 */
const EXIT_OF_CODE: Record<ErrorCode, number> = {
  E_BAD_INPUT: EXIT.failure,
  E_SHAPE: EXIT.failure,
  E_MODEL_FORMAT: EXIT.failure,
  E_IO: EXIT.failure,
  E_RESOURCE: EXIT.failure,
  E_TIMEOUT: EXIT.failure,
  E_ABORTED: EXIT.failure,
  E_OVERLOADED: EXIT.failure,
  E_TOO_LARGE: EXIT.failure,
  E_NOT_FOUND: EXIT.failure,
  E_DEPENDENCY: EXIT.failure,
  E_INTERNAL: EXIT.failure,
};

const USAGE = 'hibiki.usage';

/** A usage error (exit code 2): one line naming the flag and what was expected. */
export function usage(message: string): never {
  throw new CommanderError(EXIT.usage, USAGE, message);
}

/** The exit code for an error that ended a command. */
export function exitCodeOf(e: unknown): number {
  // commander's own: --help and --version are 0, every parse error is usage.
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (e instanceof HibikiError) return EXIT_OF_CODE[e.code];
  return EXIT.failure;
}

/**
 * What to print for an error that ended a command: one line, or nothing for
 * commander's own (it has printed them). Anything that is not ours is a bug:
 * its stack.
 */
export function errorText(e: unknown): string | undefined {
  if (e instanceof CommanderError) return e.code === USAGE ? `error: ${e.message}` : undefined;
  if (e instanceof HibikiError) return `error: ${e.message}`;
  return e instanceof Error ? (e.stack ?? String(e)) : String(e);
}

/** A failure reading a file or opening a model, as a data error that says which flag it came from. */
export function dataError(flag: string, e: unknown): HibikiError {
  const message = e instanceof Error ? e.message : String(e);
  return new HibikiError(e instanceof HibikiError ? e.code : 'E_IO', `${flag}: ${message}`, { cause: e });
}
