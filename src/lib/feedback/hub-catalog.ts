/**
 * Feedback models on the Hugging Face Hub that the app offers by name, with what a student
 * needs to decide before downloading: the size of the weights file and what the model is.
 * Sizes are the files' sizes on the Hub (ONNX exports for transformers.js).
 */
export type HubDtype = 'q4f16' | 'q4' | 'fp32';

export interface HubModel {
  id: string;
  /** What it is, in a few words. */
  about: string;
  /** Its parameters (the model card's count), for time estimates. */
  parameters: number;
  /** The weights file each device downloads, and its size in MB (null when not known). */
  files: Record<'webgpu' | 'wasm', { dtype: HubDtype; megabytes: number | null }>;
}

export const hubCatalog: readonly HubModel[] = [
  {
    id: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    about: '135M-parameter instruct model: the smallest real chat model that critiques at all',
    parameters: 134.5e6,
    files: {
      webgpu: { dtype: 'q4f16', megabytes: 134 },
      wasm: { dtype: 'q4', megabytes: 200 },
    },
  },
  {
    id: 'onnx-community/Qwen2.5-0.5B-Instruct',
    about: '0.5B-parameter instruct model: better critiques, a long first download',
    parameters: 494e6,
    files: {
      webgpu: { dtype: 'q4f16', megabytes: 483 },
      wasm: { dtype: 'q4', megabytes: null },
    },
  },
];

/**
 * The weights a Hub id is loaded with on a device: the catalog's choice, or full precision
 * for any other id (as this app's own exporter writes them: onnx/model.onnx).
 */
export function hubDtype(id: string, device: 'webgpu' | 'wasm'): HubDtype {
  return hubCatalog.find((m) => m.id === id)?.files[device].dtype ?? 'fp32';
}

/** "134 MB", or a note that the size shows as it downloads. */
export function sizeLabel(megabytes: number | null): string {
  return megabytes === null ? 'size shown while it downloads' : `${megabytes} MB`;
}
