/**
 * The one rule for model ids, wherever one comes from (an experiment, a link, the engine's
 * load request, the feedback worker): a folder name of this app's /models/, or a Hugging Face
 * Hub id "owner/name", optionally at a revision ("owner/name@v1.0"; main when none is given).
 * Never a URL, never a path. A leaf module: it imports nothing.
 */

const part = '[A-Za-z0-9][\\w.-]*';
/** A branch, tag or commit: letters, digits, `_ . - /`, no `..` and no leading `/`. */
const revisionPart = '[A-Za-z0-9_][\\w.\\-/]*';
const folderPattern = new RegExp(`^${part}$`);
const hubPattern = new RegExp(`^(${part}/${part})(?:@(${revisionPart}))?$`);

export type ModelSource = 'local' | 'hub';

/** The policy id of checkpoint files the user picked: the engine keeps them loaded, and a run
 * of an experiment naming this policy trains that model (its files cannot travel in a link). */
export const pickedFilesId = 'your-files';

/** A model reference, parsed once where it enters: one of the app's folders, a Hub model at a
 * revision, or the files the user picked. */
export type ModelRef =
  | { kind: 'local'; folder: string }
  | { kind: 'hub'; id: string; revision: string }
  | { kind: 'picked' };

/** Parses "folder", "owner/name" (revision main) or "owner/name@revision"; null otherwise. */
export function parseModelRef(text: string): ModelRef | null {
  if (text === pickedFilesId) return { kind: 'picked' };
  if (folderPattern.test(text)) return { kind: 'local', folder: text };
  const hub = hubPattern.exec(text);
  if (!hub || hub[2]?.includes('..') || hub[2]?.endsWith('/')) return null;
  return { kind: 'hub', id: hub[1]!, revision: hub[2] ?? 'main' };
}

/** The reference as an experiment writes it (the revision only when it is not main). */
export function modelRefText(ref: ModelRef): string {
  if (ref.kind === 'picked') return pickedFilesId;
  if (ref.kind === 'local') return ref.folder;
  return ref.revision === 'main' ? ref.id : `${ref.id}@${ref.revision}`;
}

/** Where a model id points, or null when it is neither a folder name nor a Hub id. */
export function modelSource(id: string): ModelSource | null {
  const ref = parseModelRef(id);
  return ref ? (ref.kind === 'hub' ? 'hub' : 'local') : null;
}

export const isHubId = (id: string): boolean => modelSource(id) === 'hub';

/** The Hub id of a reference without its revision ("owner/name@v1" → "owner/name"). */
export function hubIdOf(id: string): string {
  const ref = parseModelRef(id);
  return ref?.kind === 'hub' ? ref.id : id;
}

/** What a bad id is told (after its field's name). */
export const modelIdRule =
  'must be a model folder name or a Hugging Face id like "owner/name" (at a revision: "owner/name@v1")';

/** The id's source, or an error that says what a model id may be. */
export function modelSourceOrThrow(id: string): ModelSource {
  const source = modelSource(id);
  if (!source) throw new Error(`The model "${id}" ${modelIdRule}.`);
  return source;
}
