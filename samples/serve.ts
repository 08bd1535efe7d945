// hibiki's HTTP service inside a Node program: start it on a free port with
// the translation model on two workers, call it as any client would, then
// drain and stop it (what SIGTERM does for `hibiki serve`).
//
//   npx tsx samples/serve.ts
import { fileURLToPath } from 'node:url';
import { startServer } from 'hibiki/serve';

const server = await startServer({ translate: fileURLToPath(new URL('../models/translate-en-ja', import.meta.url)), workers: 2, limits: { texts: 16 } });
try {
  const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const post = (body: unknown) => fetch(`${address}/v1/translate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const ok = await post({ texts: ['The cat is small.', 'Sato liked flowers.'], references: ['neko wa chiisai desu .', 'satou san wa hana ga suki deshita.'] });
  const { translations, bleu } = await ok.json() as { translations: Array<{ text: string }>; bleu: { score: number; signature: string } };
  console.log(`${ok.status}: ${translations.map((t) => t.text).join(' | ')}`);
  console.log(`BLEU|${bleu.signature} = ${bleu.score.toFixed(1)}`);

  const refused = await post({ texts: Array(17).fill('Too many.') });
  console.log(`${refused.status}: ${JSON.stringify(await refused.json())}`);
} finally {
  await server.close();
}
