// The flags every command spells the same way, defined once: -m/--model,
// -w/--workers, -o/--output, -q/--quiet, --json, --queue. docs/cli.md lists
// the conventions and each command's flags.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { usage } from './exit.js';

/** A commander parser for a number flag within [min, max] (whole numbers only if `whole`), with an error that names the flag. */
export function parseNumber(flag: string, min: number, max: number, whole = false): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${flag} must be a ${whole ? 'whole ' : ''}number from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

/** A commander parser for a flag that takes one of a few names. */
export function parseChoice<T extends string>(flag: string, valid: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(valid as readonly string[]).includes(value)) throw new InvalidArgumentError(`${flag} must be one of ${valid.join(', ')}, got "${value}"`);
    return value as T;
  };
}

/** -m/--model: the model directory of a command that runs one model. */
export const modelOption = (defaultDir: string, help = 'model directory') => new Option('-m, --model <dir>', help).default(defaultDir);

/** -w/--workers: worker threads; `help` says what the default is. */
export const workersOption = (help: string, min = 0) =>
  new Option('-w, --workers <n>', `worker threads (${help})`).argParser(parseNumber('--workers', min, 256, true));

/** -q/--quiet: only progress is silenced, never results or errors. */
export const quietOption = () => new Option('-q, --quiet', 'no progress bar or progress lines on stderr (results and errors still print)');

/**
 * --json means the same in every command: machine-readable output, JSON, on
 * stdout instead of text; a command that already wrote its JSON to a file
 * (detect) takes the file, '-' being stdout.
 */
export const JSON_HELP = 'machine-readable output (JSON)';
export const jsonOption = (what?: string) => new Option('--json', `${JSON_HELP} on stdout instead of text${what ? `: ${what}` : ''}`);

/** --queue has no short letter: -q is --quiet. */
export const queueOption = () => new Option('--queue <url>', 'run on the hibiki workers of this Redis queue (redis://HOST:PORT) instead of here');
export const attemptsOption = () =>
  new Option('--attempts <n>', 'with --queue: runs of a shard before it fails for good').argParser(parseNumber('--attempts', 1, 100, true)).default(3);

/**
 * An old spelling kept working for users' scripts but left out of --help:
 * given, it sets `attribute` as the current flag would, through the current
 * flag's parser (so its values are checked the same way).
 */
export function addHiddenAlias(command: Command, flags: string, attribute: string): Command {
  const alias = new Option(flags).hideHelp();
  const current = command.options.find((o) => o.attributeName() === attribute);
  command.addOption(alias);
  command.on(`option:${alias.name()}`, (value: string) => {
    let parsed: unknown = value;
    try {
      if (current?.parseArg) parsed = current.parseArg(value, command.getOptionValue(attribute));
    } catch (e) {
      if (e instanceof InvalidArgumentError) usage(e.message);
      throw e;
    }
    command.setOptionValueWithSource(attribute, parsed, 'cli');
  });
  return command;
}
