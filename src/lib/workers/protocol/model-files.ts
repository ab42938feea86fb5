import type { CheckpointSlot, PolicyInfo } from '../../domain/policy.ts';
import type { CachedModel } from '../../model/checkpoints/part-store.ts';
import type { ModelProbe } from '../../domain/backend.ts';
import type { HubRef } from '../../model/checkpoints/hub.ts';
import type { LoraConfig } from '../../model/adapters/lora-config.ts';
import type { PlanShape } from '../../model/memory-plan.ts';
import type { InspectResult } from '../../model/checkpoints/inspect.ts';

/**
 * Model files: loading a policy from any source, a run's checkpoints, the Hub (inspect, probe,
 * download) and the browser's model cache (workers/engine/model-file-handlers.ts).
 */

export type ModelFileRequest =
  /** Loads a model folder from this app's /models/<id>/ as the policy (dropping trained
   * policies); with `reuse`, a base policy already loaded from that folder is kept, with them.
   * With `hub`, the Hub model `model` from the browser's cache (downloaded before); with
   * `files`, the checkpoint files the user picked. */
  | {
      type: 'loadPolicy';
      model: string;
      reuse?: boolean;
      hub?: HubRef;
      files?: File[];
      /** Train LoRA adapters on the frozen model with these settings (absent or null: full
       * fine-tuning of copies, the tiny model's way). */
      lora?: LoraConfig | null;
    }
  /** Loads a run's checkpoint (from sft, reward or ppo) into the engine, beside the base
   * policy it was trained from, so a stored run can go on. */
  | { type: 'loadCheckpoint'; slot: CheckpointSlot; bytes: Uint8Array }
  /** A LoRA checkpoint of the loaded base merged into it: one safetensors model. */
  | { type: 'mergedPolicy'; checkpoint: Uint8Array }
  /** A Hub model's config and weight headers, and its memory plan (only on the user's click). */
  | { type: 'inspectHub'; hub: HubRef; shape: PlanShape; lora: LoraConfig | null }
  /** The inspection, then a quick measured probe of its architecture (random weights, 1 and
   * 2 layers) at `probe`'s batch and length: the times a run's estimate is made of. */
  | {
      type: 'probeHub';
      hub: HubRef;
      shape: PlanShape;
      lora: LoraConfig | null;
      probe: { batch: number; seq: number };
    }
  /** Downloads a Hub model into the browser's cache, resuming what is there; `progress` in
   * bytes. Refused before the weights when the plan for `shape` and `lora` does not fit the
   * backend, or the bytes missing exceed the browser's storage left. */
  | { type: 'downloadHub'; hub: HubRef; shape: PlanShape; lora: LoraConfig | null }
  /** The models in the browser's cache and their sizes. */
  | { type: 'modelCache' }
  /** Deletes one model's files (its base URL) or all (null) from the cache. */
  | { type: 'deleteCached'; base: string | null };

export interface ModelFileResults {
  loadPolicy: PolicyInfo;
  loadCheckpoint: { slot: CheckpointSlot };
  mergedPolicy: { bytes: Uint8Array };
  inspectHub: InspectResult;
  probeHub: { inspect: InspectResult; probe: ModelProbe };
  downloadHub: { bytes: number };
  modelCache: { models: CachedModel[] };
  deleteCached: { models: CachedModel[] };
}
