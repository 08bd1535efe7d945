import type { Command } from 'commander';
import { readModelDir } from '../io/model-dir.js';
import { parseImageInput } from '../models/image-input.js';
import { parseTransformerConfig } from '../models/transformer.js';
import { macsPerSample, parseWaveNetConfig, receptiveField } from '../models/wavenet.js';
import { DEFAULT_MODELS, GENERATE_DEFAULTS } from '../tasks/defaults.js';
import { dataError, usage } from './exit.js';
import { jsonOption } from './options.js';

/** `hibiki info`: what a model directory holds and what it implies (receptive field, cost). */
export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('describe a model directory')
    .argument('[dir]', `model directory (default: ${DEFAULT_MODELS.generator})`)
    .option('-m, --model <dir>', 'the model directory, as the other commands name it (instead of DIR)')
    .addOption(jsonOption())
    .action((given: string | undefined, flags: { model?: string; json?: boolean }) => {
      if (given !== undefined && flags.model !== undefined) usage(`give the model directory once: ${given} or --model ${flags.model}`);
      const dir = given ?? flags.model ?? DEFAULT_MODELS.generator;
      let model;
      try {
        model = readModelDir(dir);
      } catch (e) {
        throw dataError('--model', e);
      }
      const parameters = [...model.weights.tensors.values()].reduce((n, t) => n + t.data.length, 0);
      const info: Record<string, unknown> = { dir, architecture: model.config.architecture, parameters };
      if (model.config.architecture === 'wavenet') {
        const c = parseWaveNetConfig(`${dir}/config.json`, model.config);
        const rf = receptiveField(c);
        Object.assign(info, {
          sampleRate: c.sampleRate,
          layers: c.dilations.length,
          dilations: c.dilations,
          channels: { residual: c.residual, dilation: c.dilationChannels, skip: c.skip, classes: c.classes },
          receptiveField: { samples: rf, milliseconds: (rf / c.sampleRate) * 1000 },
          macsPerSample: macsPerSample(c),
          conditions: c.globalClasses ? { name: c.globalName, labels: c.globalLabels } : null,
          temperature: { default: GENERATE_DEFAULTS.temperature, min: c.minTemperature },
          minP: c.minP,
          ...(c.pitchPrompt ? { pitchPrompt: c.pitchPrompt } : {}),
        });
      }
      if (model.config.architecture === 'transformer') {
        const c = parseTransformerConfig(`${dir}/config.json`, model.config);
        Object.assign(info, {
          layers: { encoder: c.encoderLayers, decoder: c.decoderLayers },
          dModel: c.d, heads: c.heads, dFF: c.dFF, activation: c.activation, norm: c.norm,
          positions: `${c.positions}, at most ${c.maxPositions}`,
          vocabulary: { source: c.srcVocab, target: c.tgtVocab, tiedOutput: c.tieOutput },
          tokenizers: { source: c.sourceTokenizer ?? null, target: c.targetTokenizer ?? null },
          maxLength: `${c.maxLengthRatio} × source + ${c.maxLengthOffset}`,
        });
      }
      if (['mobilenet_v2', 'densenet', 'unet'].includes(model.config.architecture)) {
        const input = parseImageInput(`${dir}/config.json`, model.config.input);
        const labels = (model.config.labels ?? []) as string[];
        Object.assign(info, { input: `${input.size.join('×')}×${input.channels}${input.invert ? ', inverted' : ''}`, classes: labels.length || model.config.num_classes, labels });
      }
      if (model.config.architecture === 'ssd-mobilenet-v1-face') {
        const c = model.config;
        Object.assign(info, { input: `${c.input_size}×${c.input_size}×3`, anchors: c.anchors, scoreThreshold: c.score_threshold, iouThreshold: c.iou_threshold, maxResults: c.max_results });
      }
      if (flags.json) {
        console.log(JSON.stringify(info, null, 2));
        return;
      }
      for (const [key, value] of Object.entries(info)) {
        console.log(`${key.padEnd(16)} ${typeof value === 'object' ? JSON.stringify(value) : value}`);
      }
    });
}
