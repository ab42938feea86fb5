/**
 * `npm run make-checkpoint -- --shape smollm2-135m --out DIR [--dtype BF16] [--shards 1]
 *  [--tokenizer qwen3|llama3] [--seed 1]`: a random-weight checkpoint in the Hugging Face
 * layout with a real architecture's shapes, for `npm run bench -- --model DIR` and
 * `npm run model -- inspect DIR`. Shapes: smollm2-135m, qwen2.5-0.5b, qwen3-0.6b, tiny-qwen3.
 */
import { parseArgs } from 'node:util';
import {
  checkpointShapes,
  tokenizerPackages,
  writeRandomCheckpoint,
  type CheckpointShape,
  type TokenizerName,
} from './lib/random-checkpoint.ts';

const { values: args } = parseArgs({
  options: {
    shape: { type: 'string', default: 'smollm2-135m' },
    out: { type: 'string' },
    dtype: { type: 'string', default: 'BF16' },
    shards: { type: 'string', default: '1' },
    tokenizer: { type: 'string' },
    seed: { type: 'string', default: '1' },
  },
});
try {
  if (!args.out) throw new Error('--out DIR is required.');
  if (!(args.shape in checkpointShapes))
    throw new Error(`--shape must be one of ${Object.keys(checkpointShapes).join(', ')}.`);
  if (!['F32', 'BF16', 'F16'].includes(args.dtype))
    throw new Error('--dtype must be F32, BF16 or F16.');
  if (args.tokenizer && !(args.tokenizer in tokenizerPackages))
    throw new Error(`--tokenizer must be one of ${Object.keys(tokenizerPackages).join(', ')}.`);
  const json = writeRandomCheckpoint({
    shape: args.shape as CheckpointShape,
    out: args.out,
    dtype: args.dtype as 'F32' | 'BF16' | 'F16',
    shards: Number(args.shards),
    tokenizer: args.tokenizer as TokenizerName | undefined,
    seed: Number(args.seed),
  });
  console.log(
    `Wrote ${args.out}: a random-weight ${json.architectures} with ${args.shape}'s shapes (${args.dtype}).`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
