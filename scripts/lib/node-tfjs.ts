import * as tf from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { join, resolve } from 'node:path';

/** tfjs in Node (scripts): the WASM backend, its files read from node_modules. */
export async function useNodeWasm(): Promise<string> {
  setWasmPaths(resolve(join('node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')) + '/');
  if (!(await tf.setBackend('wasm'))) throw new Error('The tfjs WASM backend failed to start.');
  return `wasm (${getThreadsCount()} thread${getThreadsCount() === 1 ? '' : 's'})`;
}

/**
 * tfjs in Node on its CPU backend. (The backend registers itself on import; naming one of its
 * exports keeps a bundler from dropping the import as side-effect free.)
 */
export async function useNodeCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu')))
    throw new Error(`The tfjs CPU backend ${version_cpu} failed to start.`);
  return 'cpu';
}
