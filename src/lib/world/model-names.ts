/**
 * Which models speak the tiny world: the shipped model's folder, or the same model served
 * under that name from a Hub (as `npm run experiment -- --policy models/tiny-cai` does).
 * Only their texts can be read by the world's judge and its critique conclusions; every
 * other model is judged by the feedback model and quoted whole.
 */
import { hubIdOf } from '../domain/model-id.ts';

export const tinyWorldModel = 'tiny-cai';

export function speaksTinyWorld(modelId: string): boolean {
  const id = hubIdOf(modelId); // at any revision
  return id === tinyWorldModel || id.endsWith(`/${tinyWorldModel}`);
}
