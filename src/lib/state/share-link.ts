/**
 * Share links: the whole experiment (never its results) in the URL hash, as
 * `#x=<link version>.<base64url(deflate-raw(JSON))>`. Decoding treats the hash as untrusted:
 * every failure becomes one readable message, and the experiment must pass
 * validateExperiment (so a model can only be a folder name or a Hub id, never a URL).
 */
import { describeErrors, validateExperiment } from './experiment-check.ts';
import { type Experiment } from './experiment.ts';

/** Version of the link's envelope (the experiment inside carries its own version). */
export const linkVersion = 1;
const key = 'x';

/** Panels a teacher can hide from students who open the link. */
export const panelIds = ['editor', 'run', 'stages', 'results', 'lab'] as const;
export type PanelId = (typeof panelIds)[number];

export interface SharedExperiment {
  experiment: Experiment;
  hidden: PanelId[];
}

export type DecodedLink = ({ ok: true } & SharedExperiment) | { ok: false; message: string };

async function pipeBytes(bytes: Uint8Array, stream: GenericTransformStream): Promise<Uint8Array> {
  const out = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Bytes of a base64url text, or null if it is not base64url. A dangling last character (a
 * cut-off text) is dropped: the bytes then fail later, as a truncated payload.
 */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const whole = text.length % 4 === 1 ? text.slice(0, -1) : text;
  const binary = atob(whole.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The hash (with its "#") that reproduces the experiment, with the given panels hidden. */
export async function encodeShareLink(
  experiment: Experiment,
  hidden: PanelId[] = [],
): Promise<string> {
  // A valid experiment travels as its checker returns it: every field of its tables, in their
  // order, nothing else. An invalid one travels as it is, so its reader sees the same problems.
  const checked = validateExperiment(experiment);
  const json = JSON.stringify({ experiment: checked.ok ? checked.experiment : experiment, hidden });
  const packed = await pipeBytes(
    new TextEncoder().encode(json),
    new CompressionStream('deflate-raw'),
  );
  return `#${key}=${linkVersion}.${toBase64Url(packed)}`;
}

/** True when a hash carries a shared experiment (well formed or not). */
export function isShareLink(hash: string): boolean {
  return hash.replace(/^#/, '').startsWith(`${key}=`);
}

/** Reads a shared experiment from a location hash; never throws. */
export async function decodeShareLink(hash: string): Promise<DecodedLink> {
  const fail = (message: string): DecodedLink => ({ ok: false, message });
  const body = hash.replace(/^#/, '');
  if (!body.startsWith(`${key}=`)) return fail('This link does not hold an experiment.');
  const match = /^(\d+)\.(.*)$/s.exec(body.slice(key.length + 1));
  if (!match) return fail('This link is damaged: its experiment has no version.');
  const version = Number(match[1]);
  if (version > linkVersion)
    return fail(
      `This link was made by a newer version of CAI Playground (link format ${version}; this page reads ${linkVersion}). Reload the page to get the latest version.`,
    );
  if (version !== linkVersion) return fail(`This link's format (${version}) is not known.`);
  const bytes = fromBase64Url(match[2]!);
  if (!bytes || bytes.length === 0)
    return fail('This link is damaged: it has characters a share link never has.');
  let json: string;
  try {
    json = new TextDecoder('utf-8', { fatal: true }).decode(
      await pipeBytes(bytes, new DecompressionStream('deflate-raw')),
    );
  } catch {
    return fail('This link is truncated or damaged: its experiment cannot be unpacked.');
  }
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return fail('This link is damaged: its experiment is not valid JSON.');
  }
  const envelope = (data ?? {}) as { experiment?: unknown; hidden?: unknown };
  const checked = validateExperiment(envelope.experiment);
  if (!checked.ok)
    return fail(`This link's experiment is not valid: ${describeErrors(checked.errors)}.`);
  const hidden = Array.isArray(envelope.hidden)
    ? panelIds.filter((id) => (envelope.hidden as unknown[]).includes(id))
    : [];
  return { ok: true, experiment: checked.experiment, hidden };
}
