/**
 * Downloads one file of a model folder (the app's own /models/ folder, or, online and on the
 * user's click, the Hub), turning network and HTTP failures into readable errors.
 */
import { describeError } from '../domain/errors.ts';

export async function fetchBytes(url: string, fetchFn: typeof fetch = fetch): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (error) {
    throw new Error(`Could not download ${url}: ${describeError(error)}`);
  }
  if (!response.ok) throw new Error(`Could not download ${url}: HTTP ${response.status}.`);
  return new Uint8Array(await response.arrayBuffer());
}
