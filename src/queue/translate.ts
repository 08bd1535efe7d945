// Translation as queue jobs: the producer's side (lines → shards by tokens)
// and the worker's side (a shard → its translations), which must agree on
// the shapes below.
import { join } from 'node:path';
import { readModelConfig } from '../io/model-dir.js';
import { type Translation, Translator } from '../tasks/translator.js';
import { parseTransformerConfig } from '../models/transformer.js';
import { MarianTokenizer } from '../text/marian-tokenizer.js';
import { SentencePiece } from '../text/sentencepiece.js';
import { type QueuedFailure, shardFailures, BadShardError } from './failures.js';

/** The search options a translate job carries; every shard of the job uses the same. */
export interface TranslateSearch {
  beam: number;
  nBest: number;
  lengthPenalty: number;
  maxBatchTokens: number;
}

/** One shard's data: consecutive input lines, from line `first` (0-based) on. */
export interface TranslateShard {
  first: number;
  lines: string[];
  search: TranslateSearch;
}

/** What a worker returns for a shard: a translation or a failure per line. */
export interface TranslateShardResult {
  translations: Array<Translation | null>;
  /** Lines that failed (e.g. longer than the model allows), by index within the shard; the message does not name the line. */
  failures: QueuedFailure[];
}

/**
 * Splits lines into runs of consecutive lines of about `shardTokens` source
 * tokens each (the unit of work the local pool balances by too); a line
 * longer than that is a shard of its own. Consecutive, so a shard's place in
 * the output is a line range and its content fixes its id.
 */
export function planTranslateShards(lines: readonly string[], modelDir: string, shardTokens: number, search: TranslateSearch): TranslateShard[] {
  const sourceTokens = sourceTokenCounter(modelDir);
  const shards: TranslateShard[] = [];
  let current: TranslateShard = { first: 0, lines: [], search };
  let tokens = 0;
  lines.forEach((line, i) => {
    const cost = sourceTokens(line);
    if (current.lines.length > 0 && tokens + cost > shardTokens) {
      shards.push(current);
      current = { first: i, lines: [], search };
      tokens = 0;
    }
    current.lines.push(line);
    tokens += cost;
  });
  if (current.lines.length) shards.push(current);
  return shards;
}

/** Source tokens of a line, end of sentence included, as the model directory's tokenizer counts them (a Marian directory's, or hibiki's SentencePiece). */
function sourceTokenCounter(modelDir: string): (line: string) => number {
  const json = readModelConfig(modelDir);
  if (json.architecture === 'marian') {
    const tokenizer = MarianTokenizer.load(modelDir);
    return (line) => tokenizer.encode(line).length;
  }
  const config = parseTransformerConfig(join(modelDir, 'config.json'), json);
  const tokenizer = SentencePiece.load(join(modelDir, config.sourceTokenizer ?? 'source.spm'));
  return (line) => tokenizer.encode(line).length + 1;
}

const isCount = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Checks a shard read from Redis: anything malformed is refused for good (retrying cannot mend it). */
export function checkTranslateShard(data: unknown, where: string): TranslateShard {
  const d = data as Partial<TranslateShard> | null;
  const s = d?.search as Partial<TranslateSearch> | undefined;
  const bad = (what: string) => new BadShardError(`${where}: ${what}`);
  if (!d || !isCount(d.first, 0, Number.MAX_SAFE_INTEGER)) throw bad('"first" must be a line index');
  if (!Array.isArray(d.lines) || d.lines.length === 0 || !d.lines.every((l) => typeof l === 'string')) {
    throw bad('"lines" must be a non-empty array of strings');
  }
  if (!s || !isCount(s.beam, 1, 64) || !isCount(s.nBest, 1, s.beam as number) || !isCount(s.maxBatchTokens, 1, 1e6) ||
      typeof s.lengthPenalty !== 'number' || !(s.lengthPenalty >= 0 && s.lengthPenalty <= 10)) {
    throw bad('"search" must hold beam 1–64, nBest 1–beam, lengthPenalty 0–10 and maxBatchTokens 1–10⁶');
  }
  return d as TranslateShard;
}

/** Runs a shard on the worker's translator; `progress` gets the lines done so far. */
export async function translateShard(
  translator: Translator, shard: TranslateShard, progress: (linesDone: number) => void,
): Promise<TranslateShardResult> {
  const result = await translator.translate(shard.lines, { ...shard.search, onProgress: (p) => progress(p.done) });
  return {
    translations: result.translations.map((t) => t ?? null),
    failures: shardFailures(result.failures, (i) => `line ${shard.first + i + 1}`),
  };
}
