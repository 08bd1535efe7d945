// A batch translation job from a Node program: the 1,000 held-out English
// sentences to Japanese on two workers, then sacreBLEU-compatible BLEU
// against the references.
//
//   npx tsx samples/translate.ts [MODEL_DIR]
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { Translator, corpusBleu } from 'hibiki';

const lines = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
const sources = lines('./test.en');
const references = lines('./test.ja');

const translator = await Translator.open(process.argv[2] ?? fileURLToPath(new URL('../models/translate-en-ja', import.meta.url)), { workers: 2 });
try {
  const controller = new AbortController(); // abort() would stop the job at the workers' next step
  const { translations, failures } = await translator.translate(sources, { signal: controller.signal });
  if (failures.length) throw failures[0]!.error;
  const texts = translations.map((t) => t!.text);
  console.log(`${sources[0]} → ${texts[0]}`);
  const exact = texts.filter((t, i) => t === references[i]).length;
  console.log(`${texts.length} sentences, ${exact} exactly as the reference`);
  console.log(corpusBleu(texts, [references]).format({ width: 1, signature: true }));
} finally {
  await translator.close();
}
