/**
 * sacreBLEU's BLEU tokenizers (2.6.0): each maps a line to space-separated
 * tokens. The regular expressions are sacreBLEU's, character for character;
 * Python's `' '.join(line.split())` is `pySplit(line).join(' ')`.
 */
import { pySplit } from './sacrebleu-compat.js';

/** sacreBLEU's tokenizers this port implements, by its names. */
export const BLEU_TOKENIZERS = ['13a', 'intl', 'char', 'none'] as const;
/** One of BLEU_TOKENIZERS. */
export type BleuTokenizer = (typeof BLEU_TOKENIZERS)[number];

const squeeze = (line: string) => pySplit(line).join(' ');

// mteval-v13a.pl's language-dependent part (tokenizer_re.py). Python's [0-9] is ASCII, as here.
const RULES_13A: Array<[RegExp, string]> = [
  [/([\x7b-\x7e\x5b-\x60\x20-\x26\x28-\x2b\x3a-\x40\x2f])/gu, ' $1 '], // {|}~ [\]^_` space!"#$%& ()*+ :;<=>?@ /
  [/([^0-9])([.,])/gu, '$1 $2 '], // period and comma unless preceded by a digit
  [/([.,])([^0-9])/gu, ' $1 $2'], // … unless followed by a digit
  [/([0-9])(-)/gu, '$1 $2 '], // dash after a digit
];

/** mteval-v13a, the WMT standard: unescapes four entities, drops `<skipped>`, splits punctuation. */
export function tokenize13a(line: string): string {
  line = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (line.includes('&')) {
    line = line.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  }
  line = ` ${line} `;
  for (const [re, replacement] of RULES_13A) line = line.replace(re, replacement);
  return squeeze(line);
}

// mteval-v14's international tokenization on Unicode categories (N number, P punctuation, S symbol).
const RULES_INTL: Array<[RegExp, string]> = [
  [/(\P{N})(\p{P})/gu, '$1 $2 '], // punctuation preceded by a non-digit
  [/(\p{P})(\P{N})/gu, ' $1 $2'], // punctuation followed by a non-digit
  [/(\p{S})/gu, ' $1 '], // every symbol
];

/** mteval-v14 `--international-tokenization`. A number ending a line keeps its period, as in mteval-v14. */
export function tokenizeIntl(line: string): string {
  for (const [re, replacement] of RULES_INTL) line = line.replace(re, replacement);
  return squeeze(line);
}

/** Every code point a token (spaces included; the n-gram split drops them). */
export const tokenizeChar = (line: string): string => Array.from(line).join(' ');

export const BLEU_TOKENIZE: Record<BleuTokenizer, (line: string) => string> = {
  '13a': tokenize13a,
  intl: tokenizeIntl,
  char: tokenizeChar,
  none: (line) => line,
};
