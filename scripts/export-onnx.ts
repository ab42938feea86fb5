/**
 * `npm run export-onnx`: writes <model>/onnx/model.onnx from <model>/model.safetensors and
 * config.json, with our own exporter (no Python), for the feedback worker's transformers.js.
 * Options: --model models/tiny-cai
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseModelConfig } from '../src/lib/model/architecture/config.ts';
import { exportLlamaOnnx } from '../src/lib/model/checkpoints/onnx/export-llama.ts';
import { readSafetensors } from '../src/lib/model/checkpoints/safetensors.ts';

const { values: args } = parseArgs({
  options: { model: { type: 'string', default: join('models', 'tiny-cai') } },
});
const config = parseModelConfig(JSON.parse(readFileSync(join(args.model, 'config.json'), 'utf8')));
const { tensors } = readSafetensors(
  new Uint8Array(readFileSync(join(args.model, 'model.safetensors'))),
);
const onnx = exportLlamaOnnx(config, tensors);
mkdirSync(join(args.model, 'onnx'), { recursive: true });
writeFileSync(join(args.model, 'onnx', 'model.onnx'), onnx);
console.log(
  `Wrote ${join(args.model, 'onnx', 'model.onnx')} (${(onnx.byteLength / 2 ** 20).toFixed(1)} MiB).`,
);
