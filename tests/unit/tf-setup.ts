import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';

/** Unit tests run tfjs on its CPU backend (the browser tests cover WebGPU and WASM). */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
}
