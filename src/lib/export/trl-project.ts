/**
 * A run as a runnable TRL project (pure): its datasets, constitution and templates, config.yaml
 * with every stage setting as the TRL argument it corresponds to, the SL-CAI and RL-CAI scripts,
 * the trained adapter (PEFT's folder) and the shipped model it started from, and a README.
 * The page zips the files; `npm run export-trl` writes them to a folder.
 */
import { isHubId } from '../domain/model-id.ts';
import { critiquesJsonl, preferencesJsonl, promptsJsonl, sftJsonl } from '../runs/exports.ts';
import caiCommon from './python/cai_common.py?raw';
import rlCai from './python/rl_cai.py?raw';
import slCai from './python/sl_cai.py?raw';
import { trlConfigSections } from './trl-config.ts';
import { trlVersion } from './trl-setting-maps.ts';
import { exportedModel, requirements, type TrlExportInput } from './trl-inputs.ts';
import { trlReadme } from './trl-readme.ts';
import { writeYaml, yamlComment, type YamlMapping } from './yaml.ts';

export interface ExportFile {
  path: string;
  data: string | Uint8Array;
}

function configYaml(input: TrlExportInput): string {
  const e = input.experiment;
  const models: YamlMapping = new Map();
  for (const role of ['policy', 'feedback'] as const) {
    const { id, folder } = exportedModel(e.models[role]);
    const note = folder
      ? input.modelFiles[folder]
        ? `the playground’s ${folder}, exported beside this file`
        : `the run’s local folder ${folder}: copy it to ${id}`
      : isHubId(id)
        ? 'a Hugging Face Hub id'
        : 'the files the run’s user picked: put their folder here';
    models.set(role, { value: id, comment: note });
  }
  const root: YamlMapping = new Map([
    ['trl_version', { value: trlVersion, comment: 'the TRL release these arguments are for' }],
    ['seed', { value: e.seed, comment: 'the run’s seed' }],
    ['models', { value: models }],
    ...trlConfigSections(e),
  ]);
  return (
    yamlComment(`${input.source}, exported from CAI Playground for TRL ${trlVersion}.`) +
    yamlComment(
      'Each value is the run’s; the comment names the playground setting it comes from.',
    ) +
    '\n' +
    writeYaml(root)
  );
}

/** Every file of the project, by its path in the folder. */
export function trlProject(input: TrlExportInput): ExportFile[] {
  const e = input.experiment;
  const files: ExportFile[] = [
    { path: 'README.md', data: trlReadme(input) },
    { path: 'config.yaml', data: configYaml(input) },
    {
      path: 'constitution.json',
      data: JSON.stringify({ principles: e.constitution, templates: e.templates }, null, 2) + '\n',
    },
    { path: 'requirements.txt', data: requirements.join('\n') + '\n' },
    { path: 'sl_cai.py', data: slCai },
    { path: 'rl_cai.py', data: rlCai },
    { path: 'cai_common.py', data: caiCommon },
    { path: 'data/sft.jsonl', data: sftJsonl(input.records, e.stages.sft.everyRound) },
    { path: 'data/preferences.jsonl', data: preferencesJsonl(input.records) },
    { path: 'data/critiques.jsonl', data: critiquesJsonl(input.records) },
    { path: 'data/prompts.jsonl', data: promptsJsonl(e.prompts) },
  ];
  if (input.adapter)
    for (const [name, data] of Object.entries(input.adapter))
      files.push({ path: `adapter/${name}`, data });
  for (const [folder, folderFiles] of Object.entries(input.modelFiles))
    for (const [name, data] of Object.entries(folderFiles))
      files.push({ path: `models/${folder}/${name}`, data });
  return files;
}
