// Faces, digits and shapes from a Node program: the three vision models that ship
// in models/, each opened once and given image files' bytes.
//
//   npx tsx samples/vision.ts
import { readFileSync } from 'node:fs';
import { Classifier, Detector, Segmenter } from 'hibiki';

const image = (path: string) => readFileSync(new URL(`./images/${path}`, import.meta.url));

const detector = await Detector.open(); // models/face-detector, in this thread
const faces = await detector.detect([image('astronaut.png'), image('astronaut-camera.jpg')], { score: 0.5 });
faces.results.forEach((found, i) => console.log(`photo ${i}: ${found!.map((f) => `${f.label} ${f.score.toFixed(2)} at [${f.bbox.map(Math.round).join(', ')}]`).join('; ')}`));
await detector.close();

const classifier = await Classifier.open(undefined, { workers: 2 }); // models/digits-densenet, on two workers
const digits = await classifier.classify(['3.png', '7.png'].map((d) => image(`digits/${d}`)), { top: 1 });
console.log(`digits: ${digits.results.map((r) => r![0]!.label).join(' ')}`);
await classifier.close();

const segmenter = await Segmenter.open(); // models/shapes-unet
const [shapes] = (await segmenter.segment([image('shapes/shapes-0.png')])).results;
const counts = new Map<number, number>();
for (const k of shapes!.labels) counts.set(k, (counts.get(k) ?? 0) + 1);
console.log(`shapes-0: ${[...counts].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${segmenter.labels[k]} ${n}`).join(', ')} pixels`);
await segmenter.close();
