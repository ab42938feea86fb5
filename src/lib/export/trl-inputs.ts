/**
 * What a TRL export is made from (a run's experiment, datasets, adapter and model files) and
 * how the exported project names its models and packages.
 */
import { modelSource, pickedFilesId } from '../domain/model-id.ts';
import type { PeftFiles } from '../model/checkpoints/peft.ts';
import type { DatasetRun } from '../runs/exports.ts';
import type { Experiment } from '../experiment/experiment.ts';
import { trlVersion } from './trl-setting-maps.ts';

export interface TrlExportInput {
  experiment: Experiment;
  records: DatasetRun;
  /** The run's trained LoRA adapter, when it trained one (and it could be read). */
  adapter: PeftFiles | null;
  /** Files of the app's own model folders the run used, by folder name (the shipped model). */
  modelFiles: Record<string, Record<string, Uint8Array>>;
  /** What the run was, for the README ("“Seed experiment”, 2026-12-06"). */
  source: string;
}

/** How the export's README names a run saved by the page ("Run “X” of 2026-12-06"). */
export const pageRunSource = (meta: { name: string; created: number }): string =>
  `Run “${meta.name}” of ${new Date(meta.created).toISOString().slice(0, 10)}`;

/** The Python packages the scripts import, TRL pinned to the version config.yaml is checked for. */
export const requirements = [
  `trl==${trlVersion}`,
  'transformers>=5.0,<6', // warmup_steps as a share of all steps needs transformers 5
  'peft>=0.17',
  'accelerate>=1.4',
  'datasets>=4.7',
  'torch>=2.4',
];

/** The files of a model folder that transformers reads (the ONNX export stays behind). */
export const modelFolderFiles = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'model.safetensors',
];

/** How the project names a model: a Hub id as it is; one of the app's folders as models/NAME
 * (a folder the experiment script served as the Hub model local/NAME included). */
export function exportedModel(id: string): { id: string; folder: string | null } {
  if (id === pickedFilesId) return { id, folder: null };
  if (modelSource(id) === 'local') return { id: `models/${id}`, folder: id };
  const [owner, name] = id.split('/');
  if (owner === 'local' && name) return { id: `models/${name}`, folder: name };
  return { id, folder: null };
}

/** The app's model folders a run used (their files travel with the export). */
export function usedModelFolders(e: Experiment): string[] {
  const folders = [e.models.policy, e.models.feedback].flatMap((id) => {
    const { folder } = exportedModel(id);
    return folder ? [folder] : [];
  });
  return [...new Set(folders)];
}
