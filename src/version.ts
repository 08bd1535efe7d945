import { readFileSync } from 'node:fs';

/** hibiki's version, from package.json (beside both src/ and dist/): what CLI output and written files carry. */
export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
