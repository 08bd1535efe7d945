import type { Command } from 'commander';
import { badInput } from '../errors.js';
import { BLEU_SMOOTHING, type BleuOptions, type BleuSmoothing, corpusBleu, sentenceBleu } from '../metrics/bleu.js';
import { type ChrfOptions, corpusChrf, sentenceChrf } from '../metrics/chrf.js';
import { type MetricScore, pyRstrip } from '../metrics/sacrebleu-compat.js';
import { BLEU_TOKENIZERS, type BleuTokenizer } from '../metrics/tokenize-bleu.js';
import { usage } from './exit.js';
import { STDIO, readInput } from './files.js';
import { addHiddenAlias, jsonOption, parseChoice, parseNumber } from './options.js';

const METRICS = ['bleu', 'chrf'] as const;
type Metric = (typeof METRICS)[number];
const FORMATS = ['text', 'json'] as const;

/** sacreBLEU's multi-letter short flags, which commander cannot declare: rewritten to their long names before parsing. */
const SACREBLEU_SHORT: Readonly<Record<string, string>> = {
  '-tok': '--tokenize', '-lc': '--lowercase', '-sv': '--smooth-value', '-sl': '--sentence-level',
  '-cc': '--chrf-char-order', '-cw': '--chrf-word-order', '-ci': '--confidence', '-cin': '--confidence-n',
};
/** sacreBLEU's multi-letter short flags for what hibiki bleu does not do: refused by name rather than misread as -s, -n, -p…. */
const SACREBLEU_UNSUPPORTED: Readonly<Record<string, string>> = {
  '-sh': '--short', '-nr': '--num-refs', '-nc': '--no-color', '-ol': '--origlang',
  '-par': '--paired-ar', '-pbs': '--paired-bs', '-parn': '--paired-ar-n', '-pbsn': '--paired-bs-n',
};

/** `hibiki bleu`'s arguments with sacreBLEU's `-tok intl`, `-lc`, … (also `-tok=intl`) under their long names. */
export function sacrebleuArgs(args: readonly string[]): string[] {
  const end = args.indexOf('--') === -1 ? args.length : args.indexOf('--');
  return args.map((arg, i) => {
    if (i >= end) return arg;
    const [flag, value] = arg.split(/=(.*)/s) as [string, string | undefined];
    if (SACREBLEU_UNSUPPORTED[flag]) usage(`${flag} (sacreBLEU's ${SACREBLEU_UNSUPPORTED[flag]}) is not supported by hibiki bleu`);
    const long = SACREBLEU_SHORT[flag];
    return long === undefined ? arg : value === undefined ? long : `${long}=${value}`;
  });
}

interface BleuFlags {
  input?: string;
  metrics: string[];
  tokenize: BleuTokenizer;
  smoothMethod: BleuSmoothing;
  smoothValue?: number;
  lowercase?: boolean;
  chrfCharOrder: number;
  chrfWordOrder: number;
  chrfBeta: number;
  chrfWhitespace?: boolean;
  chrfLowercase?: boolean;
  chrfEpsSmoothing?: boolean;
  confidence?: boolean;
  confidenceN: number;
  seed: number;
  sentenceLevel?: boolean;
  scoreOnly?: boolean;
  width: number;
  format: (typeof FORMATS)[number];
  json?: boolean;
}

/**
 * A file's lines as sacreBLEU's command line reads them: UTF-8 (a byte
 * order mark stays a character), split on \n (stdin also on \r\n and \r,
 * Python's universal newlines), each line rstripped.
 */
function readLines(name: string, bytes: Uint8Array, universalNewlines: boolean): string[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw badInput(`${name} is not valid UTF-8`);
  }
  if (universalNewlines) text = text.replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map(pyRstrip);
}

/**
 * sacreBLEU's single-system text output: several lines aligned on their
 * '='. Lines without one (scores alone, from -b) are printed as they are.
 */
function alignOnEquals(lines: string[]): string[] {
  if (lines.length === 1 || !lines.every((line) => line.includes('='))) return lines;
  const lefts = lines.map((line) => line.indexOf('=') - 1);
  const width = Math.max(...lefts);
  return lines.map((line, i) => line.slice(0, lefts[i]).padStart(width) + line.slice(lefts[i]));
}

/** What sacreBLEU's -b prints: the score and its confidence interval, without the name or the details. */
function scoreOnly(score: MetricScore, width: number): string {
  const line = score.format({ width });
  return line.slice(`${score.name} = `.length, score.verbose ? -(score.verbose.length + 1) : undefined);
}

/** `hibiki bleu`: sacreBLEU's command line for one system — BLEU and chrF, its signature, its JSON. */
export function registerBleu(program: Command): void {
  const command = program
    .command('bleu')
    .summary('score a translation as sacreBLEU 2.6.0 does (BLEU, chrF, chrF++), taking its flags')
    .description('score a translation against reference files as sacreBLEU 2.6.0 does (BLEU, chrF, chrF++); ' +
      'takes sacreBLEU\'s own flags, so `sacrebleu REF -i HYP -m bleu chrf -b -w 2` runs unchanged as `hibiki bleu …`')
    .argument('<refs...>', "reference files: one reference set each, one line per segment ('-' = stdin)")
    .option('-i, --input <file>', "the translation, one line per segment ('-' or none: stdin)")
    .option('-m, --metrics <names...>', `${METRICS.join(', ')}: space- or comma-separated`, ['bleu'])
    .option('--tokenize <name>', `(-tok) BLEU tokenizer: ${BLEU_TOKENIZERS.join(', ')}`, parseChoice('--tokenize', BLEU_TOKENIZERS), '13a')
    .option('-s, --smooth-method <name>', `BLEU smoothing: ${BLEU_SMOOTHING.join(', ')}`, parseChoice('--smooth-method', BLEU_SMOOTHING), 'exp')
    .option('--smooth-value <v>', '(-sv) for floor (default 0.1) and add-k (default 1)', parseNumber('--smooth-value', 0, 1e9))
    .option('--lowercase', '(-lc) case-insensitive BLEU')
    .option('--chrf-char-order <n>', '(-cc) chrF character n-gram order', parseNumber('--chrf-char-order', 0, 100, true), 6)
    .option('--chrf-word-order <n>', '(-cw) chrF word n-gram order (2 = chrF++)', parseNumber('--chrf-word-order', 0, 100, true), 0)
    .option('--chrf-beta <n>', 'chrF recall weight', parseNumber('--chrf-beta', 0, 100, true), 2)
    .option('--chrf-whitespace', 'keep whitespace in chrF character n-grams')
    .option('--chrf-lowercase', 'case-insensitive chrF')
    .option('--chrf-eps-smoothing', "chrF++.py's epsilon smoothing instead of effective order")
    .option('--confidence', '(-ci) 95 % bootstrap interval: (μ = mean ± half-width)')
    .option('--confidence-n <n>', '(-cin) bootstrap resamples', parseNumber('--confidence-n', 2, 1e6, true), 1000)
    .option('--seed <k>', "resampling seed (sacreBLEU's SACREBLEU_SEED)", parseNumber('--seed', 0, Number.MAX_SAFE_INTEGER, true), 12345)
    .option('--sentence-level', '(-sl) one score per segment, for one metric (BLEU with effective order, as sacreBLEU)')
    .option('-b, --score-only', 'print the scores alone')
    .option('-w, --width <n>', 'decimals of the scores', parseNumber('--width', 0, 20, true), 1)
    .option('-f, --format <format>', `${FORMATS.join(' or ')} (sacreBLEU's own default is json)`, parseChoice('--format', FORMATS), 'text')
    .addOption(jsonOption('the same as -f json'))
    .option('-q, --quiet', "accepted for sacreBLEU's command lines: hibiki bleu prints no progress")
    .action((refFiles: string[], flags: BleuFlags, self: Command) => {
      const metrics = flags.metrics.flatMap((m) => m.split(',')).map((m) => m.trim().toLowerCase()).filter((m) => m !== '');
      for (const m of metrics) if (!(METRICS as readonly string[]).includes(m)) usage(`--metrics must name ${METRICS.join(' or ')}, got "${m}"`);
      if (!metrics.length) usage(`--metrics must name ${METRICS.join(' or ')}`);
      if (flags.json && self.getOptionValueSource('format') === 'cli' && flags.format !== 'json') usage(`--json and -f ${flags.format} ask for two formats`);
      if (flags.sentenceLevel && metrics.length > 1) usage(`--sentence-level takes one metric, got ${metrics.join(' and ')}`);
      if (flags.sentenceLevel && flags.confidence) usage('--sentence-level has no --confidence (bootstrap needs a corpus)');
      const input = flags.input ?? STDIO;
      if ([input, ...refFiles].filter((f) => f === STDIO).length > 1) usage('stdin (-) can be read once: give the translation or one reference as a file');

      const read = (file: string, flag: string) => readLines(file === STDIO ? 'stdin' : file, readInput(flag, file), file === STDIO);
      const hypName = input === STDIO ? 'stdin' : input;
      const hypotheses = read(input, '--input');
      if (hypotheses.length === 0) throw badInput(`${hypName} has no lines`);
      const references = refFiles.map((file) => {
        const lines = read(file, 'reference');
        if (lines.length !== hypotheses.length) throw badInput(`${file} has ${lines.length} lines but ${hypName} has ${hypotheses.length}`);
        return lines;
      });

      const bleuOptions: BleuOptions = {
        tokenize: flags.tokenize, smoothMethod: flags.smoothMethod, smoothValue: flags.smoothValue, lowercase: flags.lowercase ?? false,
      };
      const chrfOptions: ChrfOptions = {
        charOrder: flags.chrfCharOrder, wordOrder: flags.chrfWordOrder, beta: flags.chrfBeta, whitespace: flags.chrfWhitespace ?? false,
        lowercase: flags.chrfLowercase ?? false, epsSmoothing: flags.chrfEpsSmoothing ?? false,
      };
      const width = flags.width;
      if (flags.sentenceLevel) {
        // sacreBLEU prints sentence scores as text whatever -f says.
        const sentence = metrics[0] === 'bleu'
          ? (i: number) => sentenceBleu(hypotheses[i]!, references.map((r) => r[i]!), bleuOptions)
          : (i: number) => sentenceChrf(hypotheses[i]!, references.map((r) => r[i]!), chrfOptions);
        const lines = hypotheses.map((_, i) => {
          const s = sentence(i);
          return flags.scoreOnly ? scoreOnly(s, width) : s.format({ width, signature: true });
        });
        console.log(lines.join('\n'));
        return;
      }

      const bootstrap = flags.confidence ? { bootstrap: flags.confidenceN, seed: flags.seed } : {};
      const score: Record<Metric, () => MetricScore> = {
        bleu: () => corpusBleu(hypotheses, references, { ...bleuOptions, ...bootstrap }),
        chrf: () => corpusChrf(hypotheses, references, { ...chrfOptions, ...bootstrap }),
      };
      // sacreBLEU prints its metrics sorted by name: BLEU, then chrF.
      const scores = METRICS.filter((m) => metrics.includes(m)).map((m) => score[m]());
      const json = flags.json || flags.format === 'json';
      const parts = scores.map((s) => (flags.scoreOnly ? scoreOnly(s, width) : json ? s.toJSON(width) : s.format({ width, signature: true })));
      if (json) console.log(parts.length === 1 ? parts[0] : `[\n${parts.join(',\n')}\n]`);
      else console.log(alignOnEquals(parts).join('\n'));
    });
  addHiddenAlias(command, '--smooth <name>', 'smoothMethod');
}
