import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { badInput } from '../errors.js';
import { BLEU_SMOOTHING, type BleuSmoothing, corpusBleu } from '../metrics/bleu.js';
import { corpusChrf } from '../metrics/chrf.js';
import { type MetricScore, pyRstrip } from '../metrics/sacrebleu-compat.js';
import { BLEU_TOKENIZERS, type BleuTokenizer } from '../metrics/tokenize-bleu.js';
import { parseNumber } from './options.js';

const METRICS = ['bleu', 'chrf'] as const;
type Metric = (typeof METRICS)[number];

interface BleuFlags {
  input?: string;
  metrics: string;
  tokenize: string;
  smooth: string;
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
  width: number;
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

/** sacreBLEU's single-system text output: several lines aligned on their '='. */
function alignOnEquals(lines: string[]): string[] {
  const lefts = lines.map((line) => line.indexOf('=') - 1);
  const width = Math.max(...lefts);
  return lines.map((line, i) => line.slice(0, lefts[i]).padStart(width) + line.slice(lefts[i]));
}

/** `hibiki bleu`: sacreBLEU's command line for one system — BLEU and chrF, its signature, its JSON. */
export function registerBleu(program: Command): void {
  program
    .command('bleu')
    .description('score a translation against reference files as sacreBLEU 2.6.0 does (BLEU, chrF, chrF++)')
    .argument('<refs...>', 'reference files: one reference set each, one line per segment')
    .option('-i, --input <file>', 'the translation, one line per segment (default: stdin)')
    .option('-m, --metrics <list>', `comma-separated: ${METRICS.join(', ')}`, 'bleu')
    .option('--tokenize <name>', `BLEU tokenizer: ${BLEU_TOKENIZERS.join(', ')}`, '13a')
    .option('--smooth <name>', `BLEU smoothing: ${BLEU_SMOOTHING.join(', ')}`, 'exp')
    .option('--smooth-value <v>', 'for floor (default 0.1) and add-k (default 1)', parseNumber('--smooth-value', 0, 1e9))
    .option('--lowercase', 'case-insensitive BLEU')
    .option('--chrf-char-order <n>', 'chrF character n-gram order', parseNumber('--chrf-char-order', 0, 100), 6)
    .option('--chrf-word-order <n>', 'chrF word n-gram order (2 = chrF++)', parseNumber('--chrf-word-order', 0, 100), 0)
    .option('--chrf-beta <n>', 'chrF recall weight', parseNumber('--chrf-beta', 0, 100), 2)
    .option('--chrf-whitespace', 'keep whitespace in chrF character n-grams')
    .option('--chrf-lowercase', 'case-insensitive chrF')
    .option('--chrf-eps-smoothing', "chrF++.py's epsilon smoothing instead of effective order")
    .option('--confidence', '95 % bootstrap interval: (μ = mean ± half-width)')
    .option('--confidence-n <n>', 'bootstrap resamples', parseNumber('--confidence-n', 2, 1e6), 1000)
    .option('--seed <k>', "resampling seed (sacreBLEU's SACREBLEU_SEED)", parseNumber('--seed', 0, Number.MAX_SAFE_INTEGER), 12345)
    .option('-w, --width <n>', 'decimals of the scores', parseNumber('--width', 0, 20), 1)
    .option('--json', "print what `sacrebleu -f json` prints")
    .action((refFiles: string[], flags: BleuFlags) => {
      const usage = (message: string): never => program.error(`error: ${message}`, { exitCode: 2 });
      const metrics = flags.metrics.split(',').map((m) => m.trim().toLowerCase());
      for (const m of metrics) if (!(METRICS as readonly string[]).includes(m)) usage(`unknown metric "${m}" (valid: ${METRICS.join(', ')})`);
      if (!(BLEU_TOKENIZERS as readonly string[]).includes(flags.tokenize)) usage(`unknown --tokenize "${flags.tokenize}" (valid: ${BLEU_TOKENIZERS.join(', ')})`);
      if (!(BLEU_SMOOTHING as readonly string[]).includes(flags.smooth)) usage(`unknown --smooth "${flags.smooth}" (valid: ${BLEU_SMOOTHING.join(', ')})`);
      for (const [flag, value] of [['--chrf-char-order', flags.chrfCharOrder], ['--chrf-word-order', flags.chrfWordOrder], ['--chrf-beta', flags.chrfBeta],
        ['--confidence-n', flags.confidenceN], ['--seed', flags.seed], ['--width', flags.width]] as const) {
        if (!Number.isInteger(value)) usage(`${flag} must be a whole number, got ${value}`);
      }
      const read = (file: string) => {
        try {
          return readFileSync(file);
        } catch (e) {
          return usage(`cannot read ${file}: ${(e as Error).message}`);
        }
      };
      const hypName = flags.input ?? 'stdin';
      const hypotheses = readLines(hypName, flags.input ? read(flags.input) : readFileSync(0), !flags.input);
      if (hypotheses.length === 0) throw badInput(`${hypName} has no lines`);
      const references = refFiles.map((file) => {
        const lines = readLines(file, read(file), false);
        if (lines.length !== hypotheses.length) throw badInput(`${file} has ${lines.length} lines but ${hypName} has ${hypotheses.length}`);
        return lines;
      });

      const bootstrap = flags.confidence ? { bootstrap: flags.confidenceN, seed: flags.seed } : {};
      const score: Record<Metric, () => MetricScore> = {
        bleu: () => corpusBleu(hypotheses, references, {
          tokenize: flags.tokenize as BleuTokenizer, smoothMethod: flags.smooth as BleuSmoothing, smoothValue: flags.smoothValue,
          lowercase: flags.lowercase ?? false, ...bootstrap,
        }),
        chrf: () => corpusChrf(hypotheses, references, {
          charOrder: flags.chrfCharOrder, wordOrder: flags.chrfWordOrder, beta: flags.chrfBeta, whitespace: flags.chrfWhitespace ?? false,
          lowercase: flags.chrfLowercase ?? false, epsSmoothing: flags.chrfEpsSmoothing ?? false, ...bootstrap,
        }),
      };
      // sacreBLEU prints its metrics sorted by name: BLEU, then chrF.
      const scores = METRICS.filter((m) => metrics.includes(m)).map((m) => score[m]());
      if (flags.json) {
        const objects = scores.map((s) => s.toJSON(flags.width));
        console.log(objects.length === 1 ? objects[0] : `[\n${objects.join(',\n')}\n]`);
        return;
      }
      const lines = scores.map((s) => s.format({ width: flags.width, signature: true }));
      console.log((lines.length === 1 ? lines : alignOnEquals(lines)).join('\n'));
    });
}
