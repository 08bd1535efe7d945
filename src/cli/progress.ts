import cliProgress from 'cli-progress';

// cli-progress is CommonJS: Node sees SingleBar as a named export but not Format.
const { Format, SingleBar } = cliProgress;

/** What the commands use of a progress bar. */
export interface ProgressBar {
  start(total: number, value: number, payload?: object): void;
  update(value: number, payload?: object): void;
  stop(): void;
}

const SILENT: ProgressBar = { start() {}, update() {}, stop() {} };

/**
 * cli-progress's ETA is the string '0' before the first estimate and 'NULL'
 * or 'INF' while the rate is unknown, which its time format turned into
 * " 0s", "LLs" and "NFs": until there is a number it reads "--".
 */
export function formatEta(seconds: unknown, options: Parameters<typeof Format.TimeFormat>[1], roundTo: number): string {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? Format.TimeFormat(seconds, options, roundTo) : '--';
}

/** A progress bar on stderr in `format` (cli-progress placeholders), or none with --quiet. */
export function progressBar(format: string, quiet: boolean | undefined): ProgressBar {
  if (quiet) return SILENT;
  return new SingleBar({ format, stream: process.stderr, hideCursor: true, etaBuffer: 50, formatTime: formatEta });
}
