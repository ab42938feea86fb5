/**
 * Whole-experiment presets: the tiny world's seed experiment, and a real small chat model as
 * the policy with a real instruct model as its feedback model, with stage settings sized for
 * a browser tab (documented in the README's "A real model" section). Presets are plain
 * experiments; picking one replaces the editor's experiment.
 */
import { realModelLora } from '../model/adapters/lora-config.ts';
import { defaultExperiment, withFirstPrompts, type Experiment } from './experiment.ts';

export interface ExperimentPreset {
  id: 'tiny' | 'real-small';
  name: string;
  description: string;
  make: () => Experiment;
}

/**
 * SmolLM2-135M-Instruct (Llama architecture, 135M parameters, safetensors, 270 MB as BF16)
 * trains LoRA adapters (rank 8) on one frozen base; Qwen2.5-0.5B-Instruct (ONNX, q4f16 on
 * WebGPU: 483 MB) critiques, revises, labels and judges. Sized for WebGPU: a training step
 * keeps every layer's activations (no gradient checkpointing), about 0.55 MB per token per
 * layer for this model, so steps are of 2 sequences of up to 128 tokens (64 of prompt, 64 of
 * answer): a 4.8 GiB peak in the memory plan, which WASM's 4 GiB heap refuses with the
 * numbers (halve the batches or the answers there). Learning rates are LoRA's usual: 2e-4 for SFT and the reward model,
 * 1e-5 for PPO.
 */
export function realModelExperiment(): Experiment {
  const e = withFirstPrompts(defaultExperiment(), {
    redTeam: 12,
    ordinary: 6,
    heldOutRedTeam: 8,
    heldOutOrdinary: 4,
  });
  e.name = 'SmolLM2-135M-Instruct policy, Qwen2.5-0.5B-Instruct feedback';
  e.models = {
    policy: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    feedback: 'onnx-community/Qwen2.5-0.5B-Instruct',
  };
  const s = e.stages;
  s.lora = { ...realModelLora };
  s.generate = { ...s.generate, temperature: 0.7, maxNewTokens: 64 };
  s.critique = {
    ...s.critique,
    rounds: 1,
    critique: { temperature: 0, maxNewTokens: 128 },
    revision: { temperature: 0, maxNewTokens: 64 },
  };
  s.sft = { ...s.sft, epochs: 2, batchSize: 2, learningRate: 2e-4 };
  s.label = { ...s.label, pairsPerPrompt: 1, sampling: { temperature: 1, maxNewTokens: 64 } };
  s.reward = { ...s.reward, epochs: 2, batchSize: 1, learningRate: 2e-4 };
  s.ppo = {
    ...s.ppo,
    iterations: 4,
    batchSize: 4,
    responseLength: 64,
    miniBatches: 2,
    ppoEpochs: 2,
    valueWarmup: 1,
    learningRate: 1e-5,
    valueLearningRate: 1e-4,
  };
  s.evaluate = { ...s.evaluate, temperature: 0.7, maxNewTokens: 64, judge: 'feedback' };
  return e;
}

export const experimentPresets: ExperimentPreset[] = [
  {
    id: 'tiny',
    name: 'The tiny world (offline)',
    description:
      'The shipped tiny model as policy and feedback model, fully fine-tuned, judged exactly by the world that wrote its answers.',
    make: defaultExperiment,
  },
  {
    id: 'real-small',
    name: 'SmolLM2-135M policy, Qwen2.5-0.5B feedback',
    description:
      'SmolLM2-135M-Instruct as the policy, Qwen2.5-0.5B-Instruct as the feedback model: a real chat model trained with LoRA (rank 8) on one frozen base, judged by the feedback model (no ground truth). Downloads about 750 MB from the Hub, with your permission.',
    make: realModelExperiment,
  },
];
