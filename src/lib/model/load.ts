import * as tf from '@tensorflow/tfjs-core';
import { parseLlamaConfig } from './config.ts';
import { LlamaModel } from './llama.ts';
import { readSafetensors } from './safetensors.ts';

/**
 * Loads a model folder in the Hugging Face layout (config.json + model.safetensors) from a
 * base URL: the app's own /models/ folder, or (online, on the user's click) the Hub.
 */
export async function fetchBytes(url: string, fetchFn: typeof fetch = fetch): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (error) {
    throw new Error(
      `Could not download ${url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!response.ok) throw new Error(`Could not download ${url}: HTTP ${response.status}.`);
  return new Uint8Array(await response.arrayBuffer());
}

export async function loadLlama(
  baseUrl: string,
  fetchFn: typeof fetch = fetch,
): Promise<LlamaModel> {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  let configJson: Record<string, unknown>;
  try {
    configJson = JSON.parse(
      new TextDecoder().decode(await fetchBytes(base + 'config.json', fetchFn)),
    );
  } catch (error) {
    throw new Error(
      `The model's config.json could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const config = parseLlamaConfig(configJson);
  const { tensors } = readSafetensors(await fetchBytes(base + 'model.safetensors', fetchFn));
  const weights = new Map<string, tf.Tensor>();
  try {
    for (const [name, t] of tensors) weights.set(name, tf.tensor(t.data, t.shape, 'float32'));
    return new LlamaModel(config, weights);
  } finally {
    tf.dispose([...weights.values()]);
  }
}
