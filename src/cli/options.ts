import { InvalidArgumentError } from 'commander';

/** A commander parser for a number flag within [min, max], with an error that names the flag. */
export function parseNumber(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} must be a number from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}
