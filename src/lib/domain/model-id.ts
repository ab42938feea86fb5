/**
 * The one rule for model ids, wherever one comes from (an experiment, a link, the engine's
 * load request, the feedback worker): a folder name of this app's /models/, or a Hugging Face
 * Hub id "owner/name". Never a URL, never a path. A leaf module: it imports nothing.
 */

const part = '[A-Za-z0-9][\\w.-]*';
const folderPattern = new RegExp(`^${part}$`);
const hubPattern = new RegExp(`^${part}/${part}$`);

export type ModelSource = 'local' | 'hub';

/** Where a model id points, or null when it is neither a folder name nor a Hub id. */
export function modelSource(id: string): ModelSource | null {
  if (folderPattern.test(id)) return 'local';
  if (hubPattern.test(id)) return 'hub';
  return null;
}

export const isHubId = (id: string): boolean => modelSource(id) === 'hub';

/** The policy id of checkpoint files the user picked: the engine keeps them loaded, and a run
 * of an experiment naming this policy trains that model (its files cannot travel in a link). */
export const pickedFilesId = 'your-files';

/** What a bad id is told (after its field's name). */
export const modelIdRule = 'must be a model folder name or a Hugging Face id like "owner/name"';

/** The id's source, or an error that says what a model id may be. */
export function modelSourceOrThrow(id: string): ModelSource {
  const source = modelSource(id);
  if (!source) throw new Error(`The model "${id}" ${modelIdRule}.`);
  return source;
}
