/**
 * Generation settings with Hugging Face transformers' meaning
 * (GenerationConfig): read from a model directory's generation_config.json,
 * or from config.json's fields of the same names when there is none, with
 * transformers' defaults for what neither gives. Settings that change the
 * output and that hibiki does not implement (sampling, repetition penalties,
 * minimum lengths, n-gram blocking…) are refused, naming the setting, rather
 * than silently ignored.
 */
import { badInput, modelFormat } from '../errors.js';

/** Generation settings in transformers' terms (names in camelCase), as generate() reads them. */
export interface HfGenerationConfig {
  /** The first decoder input (Marian: the pad id). */
  decoderStartTokenId: number;
  /** Tokens that end a sequence (eos_token_id, one id or a list). */
  eosTokenIds: readonly number[];
  /** Fills finished rows and pads returned sequences to one length. */
  padTokenId: number;
  /** Longest sequence in tokens, the decoder start included (max_length); used when maxNewTokens is absent. */
  maxLength: number;
  /** Longest output in new tokens (max_new_tokens): the sequence limit is then maxNewTokens + 1. */
  maxNewTokens?: number;
  /** 1: greedy search; more: beam search with that many beams. */
  numBeams: number;
  /** α in sequences_scores = Σ logprobs / generated_length^α. */
  lengthPenalty: number;
  /** true: stop a sentence once numBeams hypotheses are done; false: transformers' heuristic; 'never': the canonical rule. */
  earlyStopping: boolean | 'never';
  /** Sequences returned per sentence, best first (at most numBeams). */
  numReturnSequences: number;
  /** Token sequences never produced (bad_words_ids), the ones equal to [eos] dropped as transformers does. */
  badWordsIds: readonly (readonly number[])[];
  /** Forced at the last allowed step (forced_eos_token_id), when set. */
  forcedEosTokenIds?: readonly number[];
  /** log-softmax again after the logits processors (renormalize_logits). */
  renormalizeLogits: boolean;
}

/** transformers' GenerationConfig defaults for the settings read here. */
const DEFAULTS = { max_length: 20, num_beams: 1, length_penalty: 1, early_stopping: false, num_return_sequences: 1, renormalize_logits: false } as const;

/** Settings that change the output, with the values under which they do nothing (anything else is refused). */
const INERT: Record<string, readonly unknown[]> = {
  do_sample: [false, undefined, null],
  num_beam_groups: [1, undefined, null],
  diversity_penalty: [0, undefined, null],
  repetition_penalty: [1, undefined, null],
  encoder_repetition_penalty: [1, undefined, null],
  no_repeat_ngram_size: [0, undefined, null],
  encoder_no_repeat_ngram_size: [0, undefined, null],
  min_length: [0, undefined, null],
  min_new_tokens: [0, undefined, null],
  forced_bos_token_id: [undefined, null],
  suppress_tokens: [undefined, null],
  begin_suppress_tokens: [undefined, null],
  sequence_bias: [undefined, null],
  force_words_ids: [undefined, null],
  constraints: [undefined, null],
  exponential_decay_length_penalty: [undefined, null],
  penalty_alpha: [undefined, null],
  guidance_scale: [1, undefined, null],
};

/**
 * Reads generation settings: `generation` (generation_config.json's object,
 * when the directory has one) over `config` (config.json); `file` names
 * where they came from in errors (E_MODEL_FORMAT).
 */
export function parseGenerationConfig(file: string, generation: Record<string, unknown> | undefined, config: Record<string, unknown>): HfGenerationConfig {
  const get = (key: string): unknown => (generation && key in generation ? generation[key] : config[key]);
  const fail = (key: string, expected: string) => modelFormat(file, `"${key}" must be ${expected}, got ${JSON.stringify(get(key))}`);
  for (const [key, inert] of Object.entries(INERT)) {
    if (!inert.includes(get(key))) throw modelFormat(file, `"${key}": ${JSON.stringify(get(key))} is not supported (hibiki decodes with greedy or beam search and no other logits processors)`);
  }
  const id = (key: string): number | undefined => {
    const v = get(key);
    if (v === undefined || v === null) return undefined;
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw fail(key, 'a token id');
    return v as number;
  };
  const ids = (key: string): number[] | undefined => {
    const v = get(key);
    if (v === undefined || v === null) return undefined;
    const list = Array.isArray(v) ? v : [v];
    if (list.length === 0 || !list.every((x) => Number.isSafeInteger(x) && x >= 0)) throw fail(key, 'a token id or a list of them');
    return list as number[];
  };
  const whole = (key: string, fallback: number, min: number): number => {
    const v = get(key) ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) < min) throw fail(key, `a whole number ≥ ${min}`);
    return v as number;
  };
  const pad = id('pad_token_id');
  const eos = ids('eos_token_id');
  if (pad === undefined) throw modelFormat(file, '"pad_token_id" is missing: transformers pads finished sequences with it');
  if (eos === undefined) throw modelFormat(file, '"eos_token_id" is missing');
  const lengthPenalty = get('length_penalty') ?? DEFAULTS.length_penalty;
  if (typeof lengthPenalty !== 'number' || !Number.isFinite(lengthPenalty)) throw fail('length_penalty', 'a number');
  const earlyStopping = get('early_stopping') ?? DEFAULTS.early_stopping;
  if (earlyStopping !== true && earlyStopping !== false && earlyStopping !== 'never') throw fail('early_stopping', 'true, false or "never"');
  const renormalize = get('renormalize_logits') ?? DEFAULTS.renormalize_logits;
  if (typeof renormalize !== 'boolean') throw fail('renormalize_logits', 'true or false');
  const badWords = get('bad_words_ids') ?? [];
  if (!Array.isArray(badWords) || !badWords.every((w) => Array.isArray(w) && w.length > 0 && w.every((x) => Number.isSafeInteger(x) && x >= 0))) {
    throw fail('bad_words_ids', 'a list of token id lists');
  }
  const maxNewTokens = get('max_new_tokens');
  const out: HfGenerationConfig = {
    // Marian documents the pad id as the decoder start; transformers falls back to bos.
    decoderStartTokenId: id('decoder_start_token_id') ?? id('bos_token_id') ?? pad,
    eosTokenIds: eos,
    padTokenId: pad,
    maxLength: whole('max_length', DEFAULTS.max_length, 1),
    ...(maxNewTokens === undefined || maxNewTokens === null ? {} : { maxNewTokens: whole('max_new_tokens', 0, 1) }),
    numBeams: whole('num_beams', DEFAULTS.num_beams, 1),
    lengthPenalty,
    earlyStopping,
    numReturnSequences: whole('num_return_sequences', DEFAULTS.num_return_sequences, 1),
    badWordsIds: (badWords as number[][]).filter((w) => !(w.length === 1 && eos.includes(w[0]!))),
    ...(ids('forced_eos_token_id') ? { forcedEosTokenIds: ids('forced_eos_token_id')! } : {}),
    renormalizeLogits: renormalize,
  };
  checkGeneration(out, (message) => modelFormat(file, message));
  return out;
}

/** A request's overrides of the model's settings, in transformers' generate() terms. */
export interface GenerationRequest {
  /** num_beams: 1 for greedy search. */
  numBeams?: number;
  /** num_return_sequences, at most numBeams. */
  numReturnSequences?: number;
  /** length_penalty α. */
  lengthPenalty?: number;
  /** early_stopping. */
  earlyStopping?: boolean | 'never';
  /** max_length: the sequence limit, the decoder start included. */
  maxLength?: number;
  /** max_new_tokens: the limit in new tokens (wins over maxLength). */
  maxNewTokens?: number;
}

/** The model's settings with a request's overrides (E_BAD_INPUT naming what is wrong); maxLength given alone replaces maxNewTokens. */
export function withRequest(base: HfGenerationConfig, request: GenerationRequest = {}): HfGenerationConfig {
  const out: HfGenerationConfig = { ...base };
  if (request.numBeams !== undefined) out.numBeams = request.numBeams;
  if (request.numReturnSequences !== undefined) out.numReturnSequences = request.numReturnSequences;
  if (request.lengthPenalty !== undefined) out.lengthPenalty = request.lengthPenalty;
  if (request.earlyStopping !== undefined) out.earlyStopping = request.earlyStopping;
  if (request.maxLength !== undefined) {
    out.maxLength = request.maxLength;
    if (request.maxNewTokens === undefined) delete out.maxNewTokens;
  }
  if (request.maxNewTokens !== undefined) out.maxNewTokens = request.maxNewTokens;
  checkGeneration(out, badInput);
  return out;
}

function checkGeneration(c: HfGenerationConfig, fail: (message: string) => Error): void {
  const whole = (name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) throw fail(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  };
  whole('numBeams', c.numBeams, 1, 64);
  whole('numReturnSequences', c.numReturnSequences, 1, c.numBeams);
  whole('maxLength', c.maxLength, 1);
  if (c.maxNewTokens !== undefined) whole('maxNewTokens', c.maxNewTokens, 1);
  if (typeof c.lengthPenalty !== 'number' || !Number.isFinite(c.lengthPenalty)) throw fail(`lengthPenalty must be a finite number, got ${JSON.stringify(c.lengthPenalty)}`);
  if (c.earlyStopping !== true && c.earlyStopping !== false && c.earlyStopping !== 'never') throw fail(`earlyStopping must be true, false or "never", got ${JSON.stringify(c.earlyStopping)}`);
}

/** The sequence limit in tokens, the decoder start included: max_new_tokens + 1 when set, else max_length. */
export const sequenceLimit = (c: HfGenerationConfig): number => (c.maxNewTokens !== undefined ? c.maxNewTokens + 1 : c.maxLength);
