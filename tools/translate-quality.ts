// Scores an English → Spanish translator on the two evaluation sets of
// test/fixtures/en-es, beside Apertium's translations of the same lines:
//  - packages: 2,084 human-translated messages of three held-out Debian packages
//    (nautilus, GNU tar, LibreOffice's chart module), no source of which is in the training data;
//  - general: 200 everyday sentences written for hibiki, never trained on.
//
//   npx tsx tools/translate-quality.ts [MODEL_DIR] [--beam K] [--workers 2] [--quantize int8] [--examples 20] [--json FILE] [--markdown FILE]
//
// MODEL_DIR defaults to the shipped default (models/translate-en-es); --beam to the
// directory's own setting (generation_config.json). BLEU and chrF are hibiki's own
// (sacreBLEU 2.6's defaults: 13a tokens, exp smoothing; chrF2). --markdown writes the
// scores table and `--examples` lines of each set (source, hibiki, reference, evenly
// spaced through the set), the block the README and models/README.md carry.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { corpusBleu } from '../src/metrics/bleu.js';
import { corpusChrf } from '../src/metrics/chrf.js';
import { DEFAULT_MODELS } from '../src/tasks/defaults.js';
import { Translator } from '../src/tasks/translator.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    beam: { type: 'string' },
    workers: { type: 'string', default: '2' },
    quantize: { type: 'string' },
    examples: { type: 'string', default: '20' },
    json: { type: 'string' },
    markdown: { type: 'string' },
  },
});
const dir = positionals[0] ?? DEFAULT_MODELS.translator;
const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/en-es/${name}`, import.meta.url));
const lines = (name: string) => readFileSync(fixture(name), 'utf8').split('\n').slice(0, -1);

const SETS = [
  { name: 'packages', title: 'held-out packages (nautilus, tar, LibreOffice chart): 2,084 messages' },
  { name: 'general', title: 'general sentences (test/fixtures/en-es/general.en): 200' },
] as const;

const translator = await Translator.open(dir, { workers: Number(values.workers), ...(values.quantize ? { quantize: values.quantize as 'int8' } : {}) });
const beam = values.beam === undefined ? undefined : Number(values.beam);
const rows = [];
for (const set of SETS) {
  const sources = lines(`${set.name}.en`);
  const references = lines(`${set.name}.es`);
  const apertium = lines(`${set.name}.apertium.es`);
  const started = performance.now();
  const { translations, failures } = await translator.translate(sources, beam === undefined ? {} : { beam });
  const seconds = (performance.now() - started) / 1000;
  if (failures.length) throw new Error(`${set.name}: line ${failures[0]!.index + 1} failed: ${failures[0]!.error.message}`);
  const hibiki = translations.map((t) => t!.text);
  const score = (hypotheses: string[]) => ({
    bleu: Number(corpusBleu(hypotheses, [references]).score.toFixed(1)),
    chrf: Number(corpusChrf(hypotheses, [references]).score.toFixed(1)),
  });
  const count = Number(values.examples);
  const examples = Array.from({ length: Math.min(count, sources.length) }, (_, k) => Math.floor((k * sources.length) / count))
    .map((i) => ({ line: i + 1, source: sources[i]!, hibiki: hibiki[i]!, reference: references[i]! }));
  rows.push({ set: set.name, title: set.title, lines: sources.length, seconds, hibiki: score(hibiki), apertium: score(apertium), examples });
  console.log(`${set.name}: ${sources.length} lines in ${seconds.toFixed(1)} s; hibiki BLEU ${rows.at(-1)!.hibiki.bleu} chrF ${rows.at(-1)!.hibiki.chrf}; ` +
    `Apertium BLEU ${rows.at(-1)!.apertium.bleu} chrF ${rows.at(-1)!.apertium.chrf}`);
}
await translator.close();

const search = beam === undefined ? 'the directory\'s settings' : `beam ${beam}`;
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify({
    made_by: `npx tsx tools/translate-quality.ts${positionals[0] ? ` ${positionals[0]}` : ''}${beam === undefined ? '' : ` --beam ${beam}`}`,
    search, sets: rows.map(({ examples: _, seconds: __, ...row }) => row),
  }, null, 1)}\n`);
}
if (values.markdown) {
  const escape = (s: string) => s.replaceAll('|', '\\|');
  const out = [
    `| set | lines | hibiki BLEU | hibiki chrF | Apertium BLEU | Apertium chrF |`,
    `| --- | ---: | ---: | ---: | ---: | ---: |`,
    ...rows.map((r) => `| ${r.title.split(':')[0]} | ${r.lines} | ${[r.hibiki.bleu, r.hibiki.chrf, r.apertium.bleu, r.apertium.chrf].map((x) => x.toFixed(1)).join(' | ')} |`),
    '',
  ];
  for (const r of rows) {
    out.push(`${r.title}, every ${Math.round(r.lines / r.examples.length)}th line:`, '');
    out.push('| line | source | hibiki | reference |', '| ---: | --- | --- | --- |');
    for (const e of r.examples) out.push(`| ${e.line} | ${escape(e.source)} | ${escape(e.hibiki)} | ${escape(e.reference)} |`);
    out.push('');
  }
  writeFileSync(values.markdown, out.join('\n'));
}
