/**
 * A run's trained policy as files to download: its LoRA adapter as PEFT's folder (zipped),
 * or merged into the base as one safetensors model (the engine merges it). Pure but for the
 * store and engine calls it is given.
 */
import type { CheckpointSlot } from '../domain/policy.ts';
import { peftFilesOfCheckpoint } from '../model/checkpoints/peft.ts';
import { zipStored } from '../util/zip.ts';
import type { EngineClient } from '../workers/clients.ts';
import { policyRequest } from '../pipeline/run-experiment.ts';
import { savedHubEndpoint } from '../model/checkpoints/hub-endpoint.ts';
import type { RunMeta, RunStore } from '../runs/run-store.ts';

/** The last policy a run trained: RL-CAI's, else SL-CAI's (null before either). */
export async function lastCheckpoint(
  store: RunStore,
  meta: RunMeta,
): Promise<{ slot: CheckpointSlot; bytes: Uint8Array } | null> {
  const checkpoints = await store.getCheckpoints(meta.id);
  const slot = checkpoints.rl ? 'rl' : checkpoints.sl ? 'sl' : null;
  return slot ? { slot, bytes: checkpoints[slot]! } : null;
}

/** The last policy a run trained, or an error when it has none yet. */
async function lastPolicy(
  store: RunStore,
  meta: RunMeta,
): Promise<{ slot: CheckpointSlot; bytes: Uint8Array }> {
  const last = await lastCheckpoint(store, meta);
  if (!last) throw new Error('This run has not trained a policy yet: run SL-CAI first.');
  return last;
}

/** The adapter as a zip of PEFT's folder `<folder>-<slot>-adapter/`. */
export async function adapterArchive(
  store: RunStore,
  meta: RunMeta,
  folder: string,
): Promise<{ name: string; bytes: Uint8Array }> {
  const { slot, bytes } = await lastPolicy(store, meta);
  const files = peftFilesOfCheckpoint(bytes);
  const dir = `${folder}-${slot}-adapter`;
  const zip = zipStored([
    {
      name: `${dir}/adapter_config.json`,
      data: new TextEncoder().encode(files['adapter_config.json']),
    },
    { name: `${dir}/adapter_model.safetensors`, data: files['adapter_model.safetensors'] },
  ]);
  return { name: `${dir}.zip`, bytes: zip };
}

/** The policy merged into its base (the engine must hold the run's base model). */
export async function mergedModel(
  store: RunStore,
  meta: RunMeta,
  engine: EngineClient,
  folder: string,
): Promise<{ name: string; bytes: Uint8Array }> {
  const { slot, bytes } = await lastPolicy(store, meta);
  await engine.request({ ...policyRequest(meta.experiment, savedHubEndpoint()), reuse: true });
  const merged = await engine.request({ type: 'mergedPolicy', checkpoint: bytes });
  return { name: `${folder}-${slot}-merged.safetensors`, bytes: merged.bytes };
}
