/**
 * config.yaml of the TRL export: every setting of the run where trl-setting-maps.ts maps it,
 * plus the playground's fixed choices, each with a comment saying where it comes from.
 */
import { fieldsOf, getAt } from '../config/fields.ts';
import { stageFields } from '../experiment/stage-configs.ts';
import { stageSeeds } from '../pipeline/step-context.ts';
import type { Experiment } from '../experiment/experiment.ts';
import type { YamlEntry, YamlMapping } from './yaml.ts';
import {
  settingMaps,
  to,
  trlSections,
  type SettingMap,
  type Target,
  type TrlSection,
  type Value,
} from './trl-setting-maps.ts';

/** Arguments no setting holds: the playground's fixed choices, each with its reason. */
function fixedArguments(
  e: Experiment,
): { target: Target; value: YamlEntry['value']; why: string }[] {
  const seeds = stageSeeds(e.seed);
  const s = e.stages;
  const fixed = (section: TrlSection, key: string, value: YamlEntry['value'], why: string) => ({
    target: to(section, key),
    value,
    why,
  });
  const adam = 'the playground’s AdamW betas (0.9, 0.95)';
  const cosine = 'linear warm-up, then cosine decay to 10% of the peak, as the playground does';
  const floor = () => new Map([['min_lr_rate', { value: 0.1, comment: 'fixed: the 10% floor' }]]);
  return [
    fixed('cai', 'seeds.generate', seeds.generate, 'the run’s seed for the answers'),
    fixed('cai', 'seeds.critique', seeds.critique, 'the run’s seed for principles and critiques'),
    fixed('cai', 'seeds.label', seeds.label, 'the run’s seed for pairs and their principles'),
    fixed('cai', 'seeds.sft', seeds.sft, 'the run’s seed for the SFT held-out split'),
    fixed('cai', 'seeds.reward', seeds.reward, 'the run’s seed for the reward held-out split'),
    fixed('sft', 'lr_scheduler_type', 'cosine_with_min_lr', cosine),
    fixed('sft', 'lr_scheduler_kwargs', floor(), 'the cosine schedule’s floor'),
    fixed('sft', 'adam_beta2', 0.95, adam),
    fixed('sft', 'seed', seeds.sft, 'the run’s SFT seed'),
    ...(s.sft.heldOutShare > 0
      ? [fixed('sft', 'eval_strategy', 'epoch', 'held-out loss after every epoch, as the run')]
      : []),
    fixed('reward', 'lr_scheduler_type', 'cosine_with_min_lr', cosine),
    fixed('reward', 'lr_scheduler_kwargs', floor(), 'the cosine schedule’s floor'),
    fixed('reward', 'adam_beta2', 0.95, adam),
    fixed('reward', 'weight_decay', 0, 'the playground’s reward model has no weight decay'),
    fixed('reward', 'seed', seeds.reward, 'the run’s reward seed'),
    ...(s.reward.heldOutShare > 0
      ? [fixed('reward', 'eval_strategy', 'epoch', 'held-out accuracy after every epoch')]
      : []),
    fixed('ppo', 'lr_scheduler_type', 'linear', 'decayed linearly to 0, as the playground does'),
    fixed('ppo', 'adam_beta2', 0.95, adam),
    fixed('ppo', 'weight_decay', 0, 'no weight decay in PPO, as the playground'),
    fixed('ppo', 'stop_token', 'eos', 'a response ends at the end of its turn'),
    fixed('ppo', 'seed', seeds.ppo, 'the run’s PPO seed'),
    fixed('dpo', 'lr_scheduler_type', 'cosine_with_min_lr', cosine),
    fixed('dpo', 'lr_scheduler_kwargs', floor(), 'the cosine schedule’s floor'),
    fixed('dpo', 'adam_beta2', 0.95, adam),
    fixed('dpo', 'weight_decay', 0, 'no weight decay in DPO, as the playground'),
    fixed('dpo', 'loss_type', ['sigmoid'], 'the logistic loss of the DPO paper'),
    fixed('dpo', 'seed', seeds.dpo, 'the run’s DPO seed'),
    ...(['grpo', 'rloo'] as const).flatMap((m) => [
      fixed(m, 'lr_scheduler_type', 'linear', 'decayed linearly to 0, as the playground does'),
      fixed(m, 'adam_beta2', 0.95, adam),
      fixed(m, 'weight_decay', 0, 'no weight decay, as the playground'),
      fixed(m, 'seed', seeds[m], `the run’s ${m.toUpperCase()} seed`),
    ]),
    fixed('grpo', 'loss_type', 'dapo', 'the token-level mean over the batch, as the run'),
    fixed('rloo', 'num_iterations', 1, 'one update per batch: REINFORCE, as the run'),
    fixed('lora', 'task_type', 'CAUSAL_LM', 'the policy is a causal language model'),
  ];
}

/** The settings config.ts declares, by path, with their labels (for config.yaml's comments). */
export const stageSettings = () => fieldsOf(stageFields);

/** A setting the table does not map: an error that names it (never left out quietly). */
function mapOf(path: string): SettingMap {
  const map = settingMaps[path];
  if (!map) throw new Error(`The setting "${path}" has no TRL mapping: it cannot be exported yet.`);
  return map;
}

/** What does not map one to one in this run's settings (for the README). */
export function differences(): { setting: string; why: string }[] {
  return stageSettings().flatMap(({ path, field }) => {
    const why = mapOf(path).differs;
    return why ? [{ setting: field.label, why }] : [];
  });
}

function put(root: YamlMapping, section: TrlSection, key: string, entry: YamlEntry): void {
  const parts = [section, ...key.split('.')];
  const last = parts.pop()!;
  let at = root;
  for (const part of parts) {
    if (!at.has(part)) at.set(part, { value: new Map() });
    at = at.get(part)!.value as YamlMapping;
  }
  const had = at.get(last);
  // A list target several settings feed (LoRA's target_modules) is written once.
  if (had && JSON.stringify(had.value) !== JSON.stringify(entry.value))
    throw new Error(`config.yaml: ${section}.${key} would get two values.`);
  if (had && entry.comment && had.comment !== entry.comment)
    had.comment = `${had.comment}; ${entry.comment}`;
  else if (!had) at.set(last, entry);
}

/** config.yaml's TRL sections and `cai`, every value the run's, each key's comment saying where
 * it comes from. `lora` is null for a full fine-tune. */
export function trlConfigSections(e: Experiment): YamlMapping {
  const root: YamlMapping = new Map();
  for (const section of Object.keys(trlSections) as TrlSection[])
    root.set(section, { value: new Map(), comment: trlSections[section] });
  const lora = e.stages.lora.rank > 0;
  for (const { path, field } of stageSettings()) {
    for (const t of mapOf(path).to) {
      if (t.section === 'lora' && !lora) continue;
      const value = t.value ? t.value(e) : (getAt(e.stages, path) as Value);
      const label = t.key === 'target_modules' ? 'LoRA target modules' : field.label;
      put(root, t.section, t.key, { value, comment: label });
    }
  }
  for (const { target, value, why } of fixedArguments(e)) {
    if (target.section === 'lora' && !lora) continue;
    put(root, target.section, target.key, { value, comment: `fixed: ${why}` });
  }
  if (!lora)
    root.set('lora', {
      value: null,
      comment: `${trlSections.lora}: this run fine-tuned every weight`,
    });
  return root;
}
