/**
 * "Export for TRL" on the page: the run as a runnable TRL project (export/trl-project.ts),
 * zipped as one folder. The trained adapter comes from the run's stored checkpoint, and the
 * app's own model folders the run used from this page's origin (never another).
 */
import { modelFolderFiles, pageRunSource, usedModelFolders } from './trl-inputs.ts';
import { trlProject } from './trl-project.ts';
import { peftFilesOfCheckpoint, type PeftFiles } from '../model/checkpoints/peft.ts';
import { zipStored } from '../util/zip.ts';
import { lastCheckpoint } from './adapter-export.ts';
import type { DatasetRun } from '../runs/exports.ts';
import type { RunMeta, RunStore } from '../runs/run-store.ts';

/** The adapter of the last policy the run trained (RL-CAI's, else SL-CAI's), if it has one. */
async function storedAdapter(store: RunStore | null, meta: RunMeta): Promise<PeftFiles | null> {
  if (meta.experiment.stages.lora.rank === 0 || !store) return null;
  const last = await lastCheckpoint(store, meta);
  return last ? peftFilesOfCheckpoint(last.bytes) : null;
}

/** One of the app's model folders, from this origin's /models/ (null when it is not served). */
async function servedFolder(name: string): Promise<Record<string, Uint8Array> | null> {
  const files: Record<string, Uint8Array> = {};
  for (const file of modelFolderFiles) {
    const response = await fetch(`/models/${name}/${file}`);
    if (response.status === 404 && file === 'generation_config.json') continue;
    if (!response.ok) return null;
    files[file] = new Uint8Array(await response.arrayBuffer());
  }
  return files;
}

/** The zip of `<folder>-trl/`: every file of the project. */
export async function trlArchive(
  store: RunStore | null,
  meta: RunMeta,
  view: DatasetRun,
  folder: string,
): Promise<{ name: string; bytes: Uint8Array }> {
  const modelFiles: Record<string, Record<string, Uint8Array>> = {};
  for (const name of usedModelFolders(meta.experiment)) {
    const files = await servedFolder(name);
    if (files) modelFiles[name] = files;
  }
  const files = trlProject({
    experiment: meta.experiment,
    records: { chains: view.chains, ordinary: view.ordinary, preferences: view.preferences },
    adapter: await storedAdapter(store, meta),
    modelFiles,
    source: pageRunSource(meta),
  });
  const encoder = new TextEncoder();
  const dir = `${folder}-trl`;
  const zip = zipStored(
    files.map((f) => ({
      name: `${dir}/${f.path}`,
      data: typeof f.data === 'string' ? encoder.encode(f.data) : f.data,
    })),
  );
  return { name: `${dir}.zip`, bytes: zip };
}
