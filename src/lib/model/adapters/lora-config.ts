import { bool, defaultsOf, group, num, type ConfigOf } from '../../config/fields.ts';

/** The linear layers of a decoder block, by PEFT's module names. */
export const loraModules = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
] as const;
export type LoraModule = (typeof loraModules)[number];

const target = (name: LoraModule) =>
  bool({
    label: name,
    default: true,
    help: `Adapt every layer's ${name} (PEFT's target_modules name).`,
  });

/**
 * LoRA settings of the policy (model/lora.ts), one field table. Rank 0 is full fine-tuning,
 * the tiny model's default (it is small enough to copy); the other defaults are PEFT's usual
 * choice for small chat models: alpha 16, dropout 0.05, every linear layer.
 */
export const loraFields = {
  rank: num({
    label: 'LoRA rank (0 = full fine-tune)',
    default: 0,
    min: 0,
    max: 256,
    integer: true,
    main: true,
    help: 'Rank r of each adapter: W + (alpha / r) B A with A [r, in] and B [out, r], on one frozen base shared by the policy, reward and value models. Higher learns more and costs more memory. 0 trains every weight of copies of the model instead (only the tiny model fits that).',
  }),
  alpha: num({
    label: 'LoRA alpha',
    default: 16,
    min: 0,
    max: 1024,
    help: 'Scale numerator: the adapter is multiplied by alpha / r (alpha / sqrt(r) with rsLoRA).',
  }),
  dropout: num({
    label: 'LoRA dropout',
    default: 0.05,
    min: 0,
    max: 0.9,
    help: "Dropout on each adapter's input while training (none when answering).",
  }),
  rsLora: bool({
    label: 'rsLoRA scaling',
    default: false,
    help: 'Scale by alpha / sqrt(r) instead of alpha / r (PEFT use_rslora), steadier at high ranks.',
  }),
  targets: group('Target modules', {
    q_proj: target('q_proj'),
    k_proj: target('k_proj'),
    v_proj: target('v_proj'),
    o_proj: target('o_proj'),
    gate_proj: target('gate_proj'),
    up_proj: target('up_proj'),
    down_proj: target('down_proj'),
  }),
} as const;

export type LoraConfig = ConfigOf<typeof loraFields>;
export const defaultLoraConfig: LoraConfig = defaultsOf(loraFields);

/** The usual LoRA for a real small chat model: rank 8 with alpha 16 (scale 2). */
export const realModelLora: LoraConfig = { ...defaultLoraConfig, rank: 8 };

/** The settings when they ask for adapters, null for full fine-tuning (rank 0). */
export const adapterSettings = (config: LoraConfig): LoraConfig | null =>
  config.rank > 0 ? config : null;

/** The chosen modules as PEFT's `target_modules` list. */
export function targetModules(config: LoraConfig): LoraModule[] {
  return loraModules.filter((m) => config.targets[m]);
}
