/**
 * hibiki as a user gets it: the packed tarball installed with npm into a
 * fresh folder whose name has a space and a non-ASCII character, then the
 * shipped default models run from there, through the library and the CLI.
 * The optional peer dependencies (the server's and the queue's) are not
 * installed, as for a user who only imports the library.
 *
 * It packs the tree as built (`npm test` builds before it runs the tests).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** The default translator's first two general sentences and their translations, as the PyTorch twin gives them. */
const twin = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/en-es/twin.json'), 'utf8')) as { sources: string[]; beam_texts: string[] };

let work: string;
let app: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'hibiki-install-'));
  const packed = execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' });
  const tarball = join(work, (JSON.parse(packed) as Array<{ filename: string }>)[0]!.filename);
  app = join(work, 'my app ñ');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-app', version: '1.0.0', private: true, type: 'module' }));
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const node = (args: string[], input?: string) => spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8', input, timeout: 120_000 });

describe('the npm package, installed in a folder named "my app ñ"', () => {
  it('leaves out the optional server and queue packages, and ships one font file', () => {
    for (const name of ['fastify', 'prom-client', 'bullmq', 'ioredis', 'dejavu-fonts-ttf']) {
      expect(existsSync(join(app, 'node_modules', name)), name).toBe(false);
    }
    expect(existsSync(join(app, 'node_modules/hibiki/assets/fonts/DejaVuSans.ttf'))).toBe(true);
  });

  it('translates, generates and detects with the default models from the library', () => {
    writeFileSync(join(app, 'use.mjs'), `
      import { readFileSync } from 'node:fs';
      import { Detector, Generator, Translator } from 'hibiki';
      const translator = await Translator.open();
      const { translations } = await translator.translate([${JSON.stringify(twin.sources[1])}]);
      const generator = await Generator.open();
      const { clips } = await generator.generate({ seconds: 0.05, condition: '60', seed: 3 });
      const detector = await Detector.open();
      const image = readFileSync(new URL('./node_modules/hibiki/samples/images/astronaut.png', import.meta.url));
      const { results } = await detector.detect([image]);
      console.log(JSON.stringify({ text: translations[0].text, samples: clips[0].length, faces: results[0].length }));
    `);
    const r = node(['use.mjs']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { text: string; samples: number; faces: number };
    expect(out.text).toBe(twin.beam_texts[1]);
    expect(out.samples).toBe(400); // 0.05 s at the model's 8 kHz
    expect(out.faces).toBe(1);
  });

  it('runs the CLI from node_modules/.bin: translate, generate, detect', () => {
    const bin = join(app, 'node_modules/.bin/hibiki');
    writeFileSync(join(app, 'in.en'), `${twin.sources.slice(0, 2).join('\n')}\n`);
    const translated = spawnSync(bin, ['translate', '-i', 'in.en', '-o', 'out.es', '-w', '0'], { cwd: app, encoding: 'utf8' });
    expect(translated.status, translated.stderr).toBe(0);
    expect(readFileSync(join(app, 'out.es'), 'utf8')).toBe(`${twin.beam_texts.slice(0, 2).join('\n')}\n`);
    const generated = spawnSync(bin, ['generate', '-s', '0.05', '-c', '60', '-o', 'note.wav', '-w', '0'], { cwd: app, encoding: 'utf8' });
    expect(generated.status, generated.stderr).toBe(0);
    expect(readFileSync(join(app, 'note.wav')).subarray(0, 4).toString()).toBe('RIFF');
    const image = join(app, 'node_modules/hibiki/samples/images/astronaut.png');
    const detected = spawnSync(bin, ['detect', image, '--json', 'faces.json', '-w', '0'], { cwd: app, encoding: 'utf8' });
    expect(detected.status, detected.stderr).toBe(0);
    expect((JSON.parse(readFileSync(join(app, 'faces.json'), 'utf8')) as unknown[]).length).toBe(1);
  });

  it('names what to install when hibiki/serve or hibiki/queue is imported without its packages', () => {
    for (const [subpath, packages] of [['hibiki/serve', 'npm install fastify prom-client'], ['hibiki/queue', 'npm install bullmq ioredis']] as const) {
      const r = node(['--input-type=module', '-e', `try { await import('${subpath}'); } catch (e) { console.log(e.code + ': ' + e.message); }`]);
      expect(r.stdout.trim(), subpath).toMatch(new RegExp(`^E_DEPENDENCY: .* ${packages}$`));
    }
  });
});
