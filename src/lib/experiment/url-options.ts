import { backendNames, type BackendPreference } from '../domain/backend.ts';
import { defaultKernelSet, kernelSetNames, type KernelSetName } from '../domain/backend.ts';

const backendValues: readonly BackendPreference[] = ['auto', ...backendNames];

/** Options read from the page URL's query string (not the experiment, which lives in the hash). */
export interface UrlOptions {
  /** `?backend=webgpu|wasm|cpu` forces the engine's tfjs backend; default `auto`. */
  backend: BackendPreference;
  /** `?kernels=fused|stock`: the fused WGSL kernels or tfjs's stock ops on WebGPU; default fused. */
  kernels: KernelSetName;
  /** A note for the user when a parameter was present but not understood. */
  warnings: string[];
}

export function parseUrlOptions(search: string): UrlOptions {
  const params = new URLSearchParams(search);
  const warnings: string[] = [];
  let backend: BackendPreference = 'auto';
  const asked = params.get('backend');
  if (asked !== null) {
    if ((backendValues as string[]).includes(asked)) backend = asked as BackendPreference;
    else
      warnings.push(
        `Ignored ?backend=${asked}: use one of ${backendValues.join(', ')}. Choosing automatically.`,
      );
  }
  let kernels: KernelSetName = defaultKernelSet;
  const kernelsAsked = params.get('kernels');
  if (kernelsAsked !== null) {
    if ((kernelSetNames as readonly string[]).includes(kernelsAsked))
      kernels = kernelsAsked as KernelSetName;
    else
      warnings.push(
        `Ignored ?kernels=${kernelsAsked}: use ${kernelSetNames.join(' or ')}. Using ${defaultKernelSet}.`,
      );
  }
  return { backend, kernels, warnings };
}
