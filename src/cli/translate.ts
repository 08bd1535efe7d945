import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { type Command, Option } from 'commander';
import { DEFAULT_MODELS } from '../tasks/defaults.js';
import { HibikiError, badInput } from '../errors.js';
import { modelContentHash } from '../io/model-dir.js';
import { corpusBleu } from '../metrics/bleu.js';
import { type Translation, Translator, defaultSearch } from '../tasks/translator.js';
import type { Progress } from '../pool/job.js';
import { type TranslateSearch, type TranslateShard, type TranslateShardResult, planTranslateShards } from '../queue/translate.js';
import { type QueuedOutcome, queueFlag, removeQueuedJob, runQueuedJob } from './queue.js';
import { VERSION } from '../version.js';
import { EXIT, dataError, usage } from './exit.js';
import { STDIO, readInput, writeOutput } from './files.js';
import { checkOutputFile } from './paths.js';
import { attemptsOption, modelOption, parseNumber, queueOption, quietOption, workersOption } from './options.js';
import { progressBar } from './progress.js';

/** Lines per chunk: finished chunks are journaled, so a killed run redoes at most one. */
const CHUNK_LINES = 256;

interface TranslateFlags {
  model: string;
  input: string;
  output: string;
  ref?: string[];
  beam: number;
  nBest: number;
  lengthPenalty: number;
  maxBatchTokens: number;
  workers?: number;
  quantize?: 'int8';
  resume?: boolean;
  quiet?: boolean;
  queue?: string;
  shardTokens: number;
  attempts: number;
}

/** A text file's lines (stdin for '-'), without line ends; a final newline does not make an extra line. */
export function readLines(path: string, flag = '--input'): string[] {
  const text = readInput(flag, path).toString('utf8');
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * The journal beside the output (`OUT.partial`): a header naming the job, then
 * one JSON line per finished input line. A line torn by a kill is ignored.
 */
function readJournal(path: string, header: string): Map<number, string> | string {
  const done = new Map<number, string>();
  const [first, ...rest] = journalIo(path, 'read', () => readFileSync(path, 'utf8')).split('\n');
  if (first !== header) return `${path} belongs to another job (different input, model or options)`;
  for (const line of rest) {
    try {
      const { i, t } = JSON.parse(line) as { i: number; t: string };
      if (Number.isSafeInteger(i) && typeof t === 'string') done.set(i, t);
    } catch {
      // A torn last line: that chunk is translated again.
    }
  }
  return done;
}

function appendDurably(path: string, text: string): void {
  journalIo(path, 'write', () => {
    appendFileSync(path, text);
    const fd = openSync(path, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/** The journal's reads and writes: a failure is a data error naming the journal, not a stack trace. */
function journalIo<T>(path: string, verb: 'read' | 'write', io: () => T): T {
  try {
    return io();
  } catch (cause) {
    throw new HibikiError('E_IO', `${path}: cannot ${verb} the --resume journal: ${(cause as Error).message}`, { cause });
  }
}

/** `hibiki translate`: lines through the pool in input order, journaled for --resume, BLEU against --ref. */
export function registerTranslate(program: Command): void {
  program
    .command('translate')
    .description('translate text line by line (default: English → Spanish) with a Marian (opus-mt) or Transformer model directory: a file or stdin to a file or stdout')
    .addOption(modelOption(DEFAULT_MODELS.translator))
    .option('-i, --input <file>', "input text, one sentence per line ('-' = stdin)", STDIO)
    .option('-o, --output <file>', "output file ('-' = stdout); written whole, never half", STDIO)
    .option('-r, --ref <files...>', 'reference translations (one file per reference set): print BLEU on stderr')
    .option('-b, --beam <k>', 'beam size (1 = greedy; default: the model\'s, 1 for hibiki\'s, generation_config.json\'s num_beams for Marian)', parseNumber('--beam', 1, 64, true))
    .option('--n-best <n>', 'hypotheses per line, tab-separated with scores (at most --beam; default: the model\'s, 1)', parseNumber('--n-best', 1, 64, true))
    .option('--length-penalty <a>', 'rank beam hypotheses by logprob / length^a (default: the model\'s, 1)', parseNumber('--length-penalty', 0, 10))
    .option('--max-batch-tokens <n>', 'source tokens decoded together per batch', parseNumber('--max-batch-tokens', 1, 1e6, true), 4096)
    .addOption(workersOption('default: one per core; 0 = in process'))
    .addOption(new Option('--quantize <type>', 'int8: Linear weights quantised per output channel, inputs per row (a quarter of the weight bytes; faster at opus-mt size, outputs may differ slightly)').choices(['int8']))
    .option('--resume', 'continue a run that was stopped, from OUTPUT.partial')
    .addOption(quietOption())
    .addOption(queueOption())
    .option('--shard-tokens <n>', 'with --queue: source tokens per shard (one queue job)', parseNumber('--shard-tokens', 16, 1e7, true), 8192)
    .addOption(attemptsOption())
    .action(async (given: Partial<Pick<TranslateFlags, 'beam' | 'nBest' | 'lengthPenalty'>> & Omit<TranslateFlags, 'beam' | 'nBest' | 'lengthPenalty'>) => {
      if (given.nBest !== undefined && given.nBest > (given.beam ?? 64)) usage(`--n-best ${given.nBest} is more than --beam ${given.beam}`);
      const flags = given as TranslateFlags; // beam, nBest and lengthPenalty are filled in below, once the flags are checked
      if (flags.resume && flags.output === STDIO) usage('--resume needs --output FILE (the journal lives beside it)');
      if (flags.resume && flags.queue) usage('--resume is for local runs; with --queue a rerun takes the finished shards from the queue');
      if (flags.quantize && flags.queue) usage('--quantize is for local runs; the queue\'s workers load their models as they were started');
      const queueUrl = queueFlag(flags.queue);
      // The output and, for a local run, its journal: checked before any work.
      checkOutputFile('--output', flags.output);
      const journal = flags.output === STDIO || queueUrl ? undefined : `${flags.output}.partial`;
      if (journal) checkOutputFile('--output', journal);
      if (flags.input === STDIO && process.stdin.isTTY && !flags.quiet) console.error('reading sentences from stdin, one per line (end with Ctrl-D)');
      const lines = readLines(flags.input);
      const refs = (flags.ref ?? []).map((file) => {
        const r = readLines(file, '--ref');
        if (r.length !== lines.length) throw badInput(`--ref ${file} has ${r.length} lines, the input has ${lines.length}`);
        return r;
      });

      // What the flags leave out is the model's own search (a Marian directory's generation settings).
      let model: ReturnType<typeof defaultSearch>;
      try {
        model = defaultSearch(flags.model);
      } catch (e) {
        throw dataError('--model', e);
      }
      flags.beam = given.beam ?? model.beam;
      flags.nBest = given.nBest ?? Math.min(model.nBest, flags.beam);
      flags.lengthPenalty = given.lengthPenalty ?? model.lengthPenalty;
      if (flags.nBest > flags.beam) usage(`--n-best ${flags.nBest} is more than the model's beam ${flags.beam}: give --beam`);
      const search = { beam: flags.beam, nBest: flags.nBest, lengthPenalty: flags.lengthPenalty, maxBatchTokens: flags.maxBatchTokens };
      if (queueUrl) {
        const queued = await translateOnQueue(queueUrl, flags, lines, search);
        if (!queued) return;
        await finish(flags, queued.outputs.map((t) => t ?? ''), refs, queued.failures.length);
        // Only now that the output is written may the finished shards go.
        await removeQueuedJob(queued);
        return;
      }
      let translator: Translator;
      try {
        translator = await Translator.open(flags.model, { workers: flags.workers ?? os.availableParallelism(), quantize: flags.quantize });
      } catch (e) {
        throw dataError('--model', e);
      }
      try {
        let model: string;
        try {
          model = modelContentHash(flags.model);
        } catch (e) {
          throw dataError('--model', e);
        }
        const header = JSON.stringify({
          hibiki: VERSION, job: 'translate', input: createHash('sha256').update(lines.join('\n')).digest('hex'), model, ...search,
        });
        let done = new Map<number, string>();
        if (journal && flags.resume && existsSync(journal)) {
          const read = readJournal(journal, header);
          if (typeof read === 'string') throw badInput(`--resume: ${read}; delete it to start over`);
          done = read;
        } else if (journal) {
          journalIo(journal, 'write', () => writeFileSync(journal, ''));
          appendDurably(journal, `${header}\n`);
        }
        const todo = lines.map((_, i) => i).filter((i) => !done.has(i));
        if (done.size && !flags.quiet) console.error(`resuming: ${done.size} of ${lines.length} lines already translated`);

        const bar = progressBar('{bar} {percentage}% | {value}/{total} lines | {rate} lines/s | ETA {eta_formatted}', flags.quiet);
        bar.start(lines.length, done.size, { rate: 0 });
        let failed = 0;
        for (let start = 0; start < todo.length; start += CHUNK_LINES) {
          const chunk = todo.slice(start, start + CHUNK_LINES);
          const base = done.size;
          const onProgress = (p: Progress) => bar.update(base + p.done, { rate: Math.round(p.rate * 10) / 10 });
          const result = await translator.translate(chunk.map((i) => lines[i]!), { ...search, onProgress });
          let journaled = '';
          result.translations.forEach((t, k) => {
            if (!t) return;
            const text = flags.nBest > 1 ? t.hypotheses.map((h) => `${h.text}\t${h.score.toFixed(4)}`).join('\t') : t.text;
            done.set(chunk[k]!, text);
            journaled += `${JSON.stringify({ i: chunk[k], t: text })}\n`;
          });
          for (const f of result.failures) {
            console.error(`line ${chunk[f.index]! + 1}: ${f.error.message.replace(/^line \d+: /, '')}`);
            failed++;
          }
          if (journal && journaled) appendDurably(journal, journaled);
          bar.update(done.size);
        }
        bar.stop();
        // A line the model refused fails the same on any rerun: it is an empty line, and the others are written.
        await finish(flags, lines.map((_, i) => done.get(i) ?? ''), refs, failed);
        if (journal) rmSync(journal, { force: true });
      } finally {
        await translator.close();
      }
    });
}

/**
 * Writes the whole output (atomically to --output, or to stdout) and prints
 * BLEU against --ref. `failed` lines (named on stderr already) are empty
 * lines in it, so it stays line for line with the input; they exit 1.
 */
async function finish(flags: TranslateFlags, output: string[], refs: string[][], failed: number): Promise<void> {
  await writeOutput(flags.output, output.length ? `${output.join('\n')}\n` : '', 'translation');
  if (flags.output !== STDIO && !flags.quiet) console.error(`${flags.output}: ${output.length} lines`);
  if (refs.length) {
    const best = flags.nBest > 1 ? output.map((l) => l.split('\t')[0]!) : output;
    console.error(corpusBleu(best, refs).format({ signature: true }));
  }
  if (failed) {
    console.error(`${failed} of ${output.length} lines failed (named above): each is an empty line in ${flags.output === STDIO ? 'the output' : flags.output}`);
    process.exitCode = EXIT.failure;
  }
}

/**
 * The same job on the queue's workers: shards of consecutive lines with ids
 * from the input, model and options, so a rerun after a kill finds the
 * finished ones. Returns the lines in order (undefined where the model
 * refused one, named on stderr), or undefined (exit code 1) when a shard
 * failed; the finished shards stay in Redis for the rerun.
 */
async function translateOnQueue(
  url: URL, flags: TranslateFlags, lines: string[], search: TranslateSearch,
): Promise<QueuedOutcome<string> | undefined> {
  let shards: TranslateShard[];
  try {
    shards = planTranslateShards(lines, flags.model, flags.shardTokens, search);
  } catch (e) {
    throw dataError('--model', e);
  }
  const show = (t: Translation) => (flags.nBest > 1 ? t.hypotheses.map((h) => `${h.text}\t${h.score.toFixed(4)}`).join('\t') : t.text);
  const outcome = await runQueuedJob<TranslateShard, TranslateShardResult, string>({
    url, kind: 'translate', modelDir: flags.model, attempts: flags.attempts, unit: 'lines',
    options: { search, shardTokens: flags.shardTokens }, content: lines, shards, sizeOf: (s) => s.lines.length, quiet: flags.quiet,
    unpack: (r) => ({ outputs: r.translations.map((t) => (t ? show(t) : null)), failures: r.failures }),
  });
  for (const line of outcome.failedShards) console.error(line);
  for (const f of outcome.failures) console.error(`line ${f.index + 1}: ${f.message}`);
  // A failed shard may pass when run again, so the job waits for that; lines the model
  // refused fail the same on any rerun, so they alone do not hold the output back.
  if (outcome.failedShards.length) {
    console.error(`${outcome.failed} line(s) failed; nothing written: the finished shards stay in the queue: rerun the same command to retry the rest`);
    process.exitCode = EXIT.failure;
    return undefined;
  }
  return outcome;
}
