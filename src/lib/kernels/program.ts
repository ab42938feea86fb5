import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/**
 * Runs one hand-written WGSL kernel through tfjs's WebGPU backend (`runWebGPUProgram`), so
 * its output is an ordinary tfjs tensor: the backend owns the buffers, caches the compiled
 * pipeline by `key`, and batches the dispatch with its own.
 *
 * A kernel's `body` is the inside of `fn main(index : i32)`, called once per invocation with
 * the global invocation index (tfjs folds more than 65,535 workgroups into y and z and
 * unfolds the index). Inputs are bound as `array<f32>` (`array<i32>` for int32 tensors) under
 * their names; the output is `result`. Row kernels use one workgroup per row: `row()` is the
 * workgroup's number and `lane()` the invocation's place in it; they never return early, so
 * every invocation of a workgroup reaches its barriers (WGSL's uniformity rule).
 */

export interface KernelSpec {
  /** Pipeline cache key: the kernel's name and every constant its code bakes in. */
  key: string;
  /** Input tensors, by the names the WGSL code reads them under. */
  inputs: Record<string, tf.Tensor>;
  outputShape: number[];
  outputDtype?: 'float32' | 'int32';
  /** Invocations per workgroup. */
  workgroup: number;
  /** Workgroups to launch. */
  groups: number;
  /** Scalars passed as uniforms, read as `uniforms.<name>`. */
  uniforms?: Record<string, { type: 'f32' | 'i32'; value: number }>;
  /** WGSL declarations before `main`: workgroup arrays, helper functions. */
  decls?: string;
  body: string;
}

/** Workgroup-wide sum and max over 64 or 256 lanes; every lane gets the result. */
export function reductions(lanes: number): string {
  return `
  var<workgroup> red : array<f32, ${lanes}>;
  fn lane() -> i32 { return i32(localId.x); }
  fn row() -> i32 { return getGlobalIndex() / ${lanes}; }
  fn reduceSum(v : f32) -> f32 {
    red[localId.x] = v;
    workgroupBarrier();
    for (var s = ${lanes / 2}u; s > 0u; s = s >> 1u) {
      if (localId.x < s) { red[localId.x] = red[localId.x] + red[localId.x + s]; }
      workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
  }
  fn reduceMax(v : f32) -> f32 {
    red[localId.x] = v;
    workgroupBarrier();
    for (var s = ${lanes / 2}u; s > 0u; s = s >> 1u) {
      if (localId.x < s) { red[localId.x] = max(red[localId.x], red[localId.x + s]); }
      workgroupBarrier();
    }
    let top = red[0];
    workgroupBarrier();
    return top;
  }`;
}

/** Workgroups of `lanes` invocations needed for one invocation per element of `size`. */
export const groupsFor = (size: number, lanes = 64) => Math.ceil(size / lanes);

/** Runs `spec` on the active WebGPU backend; the result is a tensor of the current scope. */
export function runKernel(spec: KernelSpec): tf.Tensor {
  const backend = tf.backend() as unknown as WebGPUBackend;
  const names = Object.keys(spec.inputs);
  const uniforms = Object.entries(spec.uniforms ?? {});
  const program = {
    variableNames: names,
    outputShape: spec.outputShape,
    shaderKey: `cai_${spec.key}`,
    dispatchLayout: { x: spec.outputShape.map((_, i) => i) },
    dispatch: [spec.groups, 1, 1] as [number, number, number],
    workgroupSize: [spec.workgroup, 1, 1] as [number, number, number],
    uniforms: uniforms.map(([name, u]) => `${name} : ${u.type}, `).join(''),
    // Every input is referenced once: tfjs builds pipelines with layout 'auto', which leaves
    // out a binding the code never uses, and binding it anyway would then fail.
    getUserCode: () => `${spec.decls ?? ''}
      fn main(index : i32) {
        ${names.map((n) => `_ = arrayLength(&${n});`).join(' ')}
        ${spec.body}
      }`,
  };
  const info = backend.runWebGPUProgram(
    program as unknown as Parameters<WebGPUBackend['runWebGPUProgram']>[0],
    names.map((n) => spec.inputs[n]!),
    spec.outputDtype ?? 'float32',
    uniforms.map(([, u]) => ({ type: u.type === 'f32' ? 'float32' : 'int32', data: [u.value] })),
  );
  return tf.engine().makeTensorFromTensorInfo(info);
}
