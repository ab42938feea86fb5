/**
 * The README of an exported TRL project: what each file holds, how to run it on one GPU and on
 * several, how the same datasets feed OpenRLHF and verl, which playground setting became which
 * argument, and what does not map one to one.
 */
import { getAt } from '../config/fields.ts';
import { isHubId } from '../domain/model-id.ts';
import { datasetFields } from '../runs/exports.ts';
import { speaksTinyWorld } from '../world/model-names.ts';
import { differences, stageSettings } from './trl-config.ts';
import { settingMaps, trlSections, trlVersion } from './trl-setting-maps.ts';
import { exportedModel, requirements, type TrlExportInput } from './trl-inputs.ts';

const fields = (list: readonly string[]) => list.map((f) => `\`${f}\``).join(', ');

/** The settings table: each playground setting, the run's value and where config.yaml has it. */
function settingsTable(input: TrlExportInput): string {
  const lora = input.experiment.stages.lora.rank > 0;
  const rows = stageSettings().map(({ path, field }) => {
    const where = settingMaps[path]!.to.filter((t) => lora || t.section !== 'lora')
      .map((t) => `\`${t.section}.${t.key}\``)
      .join(', ');
    const value = JSON.stringify(getAt(input.experiment.stages, path));
    return `| ${field.label} | ${value} | ${where || '(no LoRA in this run)'} |`;
  });
  return ['| playground setting | value | config.yaml |', '|---|---|---|', ...rows].join('\n');
}

/** What differs in this run beyond the settings table (models, adapter, randomness). */
function runNotes(input: TrlExportInput): string[] {
  const notes: string[] = [];
  for (const role of ['policy', 'feedback'] as const) {
    const id = input.experiment.models[role];
    const { folder } = exportedModel(id);
    if (folder && !input.modelFiles[folder])
      notes.push(
        `The ${role} model was the run's local folder \`${folder}\`, which is not in this export: copy it to \`models/${folder}/\`.`,
      );
    if (!folder && !isHubId(id))
      notes.push(
        `The ${role} model was files the run's user picked in the browser: put their folder here and write its path as \`models.${role}\` in config.yaml.`,
      );
    if (role === 'feedback' && id.startsWith('onnx-community/'))
      notes.push(
        `The feedback model \`${id}\` is an ONNX export for the browser; transformers needs the original PyTorch weights: write the model it was exported from (for example \`Qwen/Qwen2.5-0.5B-Instruct\` for \`onnx-community/Qwen2.5-0.5B-Instruct\`) as \`models.feedback\`.`,
      );
  }
  const { critique, lora } = input.experiment.stages;
  if (speaksTinyWorld(input.experiment.models.feedback) && critique.mode !== 'plain')
    notes.push(
      `Critiques of the tiny world: in ${critique.mode} mode the playground quotes only a critique’s conclusion in the tiny model’s revision prompt; these scripts quote the whole critique, as the playground does for every other feedback model.`,
    );
  if (lora.rank > 0)
    notes.push(
      'PPO with LoRA: sl_cai.py merges its adapter into the policy and TRL puts a fresh adapter on that for RL-CAI; the reference is the SL-CAI policy, as in the run.',
    );
  if (lora.rank > 0 && !input.adapter)
    notes.push(
      'The run trained a LoRA adapter, but it is not in this export (the run had not finished training, or its checkpoint was not given): `--policy adapter` needs one.',
    );
  return notes;
}

/** Differences every export has, whatever its settings. */
const alwaysDifferent = [
  'Randomness: Python’s and PyTorch’s generators draw other principles, samples and shuffles than the browser did from the same seeds (the same distributions, the same seeds in config.yaml).',
  'Soft labels: the run’s reward model learned from the AI label’s probability (`label` in data/preferences.jsonl); TRL’s RewardTrainer learns from the order of `chosen` and `rejected` alone.',
];

export function trlReadme(input: TrlExportInput): string {
  const e = input.experiment;
  const policy = exportedModel(e.models.policy).id;
  const feedback = exportedModel(e.models.feedback).id;
  const notes = [...runNotes(input), ...differences().map((d) => `${d.setting}: ${d.why}`)];
  return `# ${e.name}: CAI with TRL

${input.source}, exported from CAI Playground: the same Constitutional AI recipe, ready to run at
scale with [TRL](https://github.com/huggingface/trl) ${trlVersion}. Policy: \`${policy}\`; feedback
model: \`${feedback}\`; ${e.constitution.length} principles; ${e.prompts.redTeam.length} red-team and
${e.prompts.ordinary.length} ordinary training prompts.

## What is here

| file | what it holds |
|---|---|
| \`config.yaml\` | every setting of the run: \`sft\`, \`reward\`, \`ppo\`, \`dpo\`, \`grpo\`, \`rloo\` and \`lora\` are the arguments of ${Object.values(
    trlSections,
  )
    .slice(1)
    .map((s) => s.split(' ')[0])
    .join(', ')}; \`cai\` holds the recipe's own settings (rounds, critique mode, labels, seeds) |
| \`constitution.json\` | \`principles\` and the six prompt \`templates\`, verbatim from the run |
| \`data/sft.jsonl\` | the SFT set the run trained on: ${fields(datasetFields.sft)} (user prompt, assistant revision) |
| \`data/preferences.jsonl\` | the AI preference labels: ${fields(datasetFields.preferences)} (\`label\`: the feedback model's probability that \`chosen\` follows \`principle\` better) |
| \`data/critiques.jsonl\` | every critique round, in the public CAI datasets' columns: ${fields(datasetFields.critiques)} |
| \`data/prompts.jsonl\` | every prompt: ${fields(datasetFields.prompts)} (\`kind\`: \`red-team\` or \`ordinary\`; \`split\`: \`train\` or \`held_out\`) |
| \`sl_cai.py\` | SL-CAI: answers → critique and revision by the feedback model → SFTTrainer |
| \`rl_cai.py\` | RL-CAI: AI labels, then the run's method: RewardTrainer → PPO (\`trl.experimental.ppo\`), GRPOTrainer or RLOOTrainer; or DPOTrainer on the labels (\`--algorithm ppo\\|dpo\\|grpo\\|rloo\` picks another) |
| \`cai_common.py\` | what both scripts share: templates, principle sampling, generation, option scoring |
| \`requirements.txt\` | the Python packages (TRL pinned to ${trlVersion}) |
${input.adapter ? "| `adapter/` | the run's trained LoRA adapter (PEFT's folder: `PeftModel.from_pretrained(base, 'adapter')`) |\n" : ''}${Object.keys(
    input.modelFiles,
  )
    .map(
      (f) =>
        `| \`models/${f}/\` | the playground's model \`${f}\` (transformers' folder layout) |\n`,
    )
    .join('')}
The scripts read only this folder's files and write under \`out/\`.

## Run it on one GPU

\`\`\`sh
pip install -r requirements.txt
accelerate launch sl_cai.py            # writes out/sl_cai/policy
accelerate launch rl_cai.py            # writes out/rl_cai/policy by the run's method; --algorithm to pick another
\`\`\`

\`--from-export\` trains on this run's own data (data/sft.jsonl, data/preferences.jsonl) instead of
generating it again with the models; ${input.adapter ? "`rl_cai.py --policy adapter` starts RL-CAI from the run's trained adapter on its base." : '`rl_cai.py --policy DIR` starts RL-CAI from another policy folder.'}

## Run it on several GPUs

\`\`\`sh
accelerate config                      # once: multi-GPU, and DeepSpeed if you want it
accelerate launch --num_processes 4 sl_cai.py
accelerate launch --use_deepspeed --zero_stage 2 --num_processes 4 rl_cai.py   # ZeRO-2
accelerate launch --use_deepspeed --zero_stage 3 --num_processes 8 sl_cai.py   # ZeRO-3, larger models
\`\`\`

Generation, critiques and labels are shared among the processes; the trainers split their batches
across them (per_device_train_batch_size is per GPU: divide it by the number of GPUs to keep the
run's batch).

## The same data in OpenRLHF and verl

Both read JSONL (or Parquet) by configurable keys:

- OpenRLHF: SFT with \`--dataset data/sft.jsonl --input_key messages --apply_chat_template\`; the reward
  model with \`--dataset data/preferences.jsonl --prompt_key prompt --chosen_key chosen --rejected_key
  rejected\`; PPO with \`--prompt_data data/prompts.jsonl --input_key prompt --apply_chat_template\`
  (keep the \`train\` split's \`red-team\` rows for the run's PPO prompts).
- verl: its trainers read Parquet with a chat-format \`prompt\` column (\`data.prompt_key\`); convert
  with \`datasets\`: \`Dataset.from_json("data/prompts.jsonl").map(lambda r: {"prompt": [{"role": "user",
  "content": r["prompt"]}]}).to_parquet("prompts.parquet")\`, and likewise for the SFT messages.

## Settings: the playground's, as TRL's arguments

${settingsTable(input)}

## What does not map one to one

${[...notes, ...alwaysDifferent].map((n) => `- ${n}`).join('\n')}

## Versions

${requirements.map((r) => `- \`${r}\``).join('\n')}

Written for TRL ${trlVersion}: PPO is \`trl.experimental.ppo.PPOTrainer\` (it moved there in TRL 0.26; the old
\`trl.PPOTrainer\` import was removed in 0.29, and later TRL deleted PPO from its main branch: keep TRL pinned to
${trlVersion} to run \`--algorithm ppo\`). DPO, GRPO and RLOO are TRL's stable trainers. config.yaml's sections name only fields of these
config classes in that release. The scripts also read config.yaml with PyYAML, which transformers
and accelerate install.
`;
}
