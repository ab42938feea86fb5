/**
 * Share links: the whole experiment (never its results) in the URL hash, as
 * `#x=<link version>.<base64url(deflate-raw(<CRC-32 of the JSON, 8 hex digits><JSON>))>`.
 * Decoding treats the hash as untrusted: every failure becomes one readable message, a link
 * whose check digits do not match what it holds is refused (a changed character must not open
 * a silently different experiment), unpacking stops at `maxLinkJson` bytes, and the experiment
 * must pass validateExperiment (so a model can only be a folder name or a Hub id, never a URL).
 * Links of format 1 (before the check) still open, with a note.
 */
import { crc32Hex } from '../util/crc32.ts';
import { describeErrors, validateExperiment } from './experiment-check.ts';
import type { Experiment } from './experiment.ts';

/** Version of the link's envelope (the experiment inside carries its own version). */
export const linkVersion = 2;
const key = 'x';
/** Most bytes of JSON a link may unpack to: far above any real experiment (~20 kB). */
export const maxLinkJson = 1 << 20;

/** Panels a teacher can hide from students who open the link. */
export const panelIds = ['editor', 'run', 'stages', 'results', 'lab'] as const;
export type PanelId = (typeof panelIds)[number];

export interface SharedExperiment {
  experiment: Experiment;
  hidden: PanelId[];
  /** Something the reader should know about the link (an old format), when there is. */
  note?: string;
}

export type DecodedLink = ({ ok: true } & SharedExperiment) | { ok: false; message: string };

class TooLarge extends Error {}

/** Bytes through a transform stream; past `limit` output bytes it stops and throws TooLarge. */
async function pipeBytes(
  bytes: Uint8Array,
  stream: GenericTransformStream,
  limit = Infinity,
): Promise<Uint8Array> {
  const reader = new Blob([bytes as BlobPart]).stream().pipeThrough(stream).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new TooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
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
    new TextEncoder().encode(crc32Hex(json) + json),
    new CompressionStream('deflate-raw'),
  );
  return `#${key}=${linkVersion}.${toBase64Url(packed)}`;
}

/** True when the address has a hash at all: the app uses hashes for nothing but links, so
 * any other hash is a link gone wrong and gets the same message as a broken one. */
export function isShareLink(hash: string): boolean {
  return hash.replace(/^#/, '') !== '';
}

/** The JSON a link's payload unpacks to, checked against its CRC in format 2. */
async function unpack(bytes: Uint8Array, version: number): Promise<string> {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(
    await pipeBytes(bytes, new DecompressionStream('deflate-raw'), maxLinkJson + 8),
  );
  if (version === 1) return text;
  const json = text.slice(8);
  if (!/^[0-9a-f]{8}$/.test(text.slice(0, 8)) || crc32Hex(json) !== text.slice(0, 8))
    throw new Error(
      'This link is damaged: its check digits do not match what it holds (a character was changed or lost when it was copied).',
    );
  return json;
}

const damaged = 'This link is damaged: it does not hold a CAI Playground experiment.';
const oldNote =
  'This link was made before share links carried a check against copying errors; it opened as it was, so compare it with what was shared.';

/** Reads a shared experiment from a location hash; never throws. */
export async function decodeShareLink(hash: string): Promise<DecodedLink> {
  const fail = (message: string): DecodedLink => ({ ok: false, message });
  const body = hash.replace(/^#/, '');
  if (!body.startsWith(`${key}=`)) return fail(damaged);
  const match = /^(\d+)\.(.*)$/s.exec(body.slice(key.length + 1));
  if (!match) return fail('This link is damaged: its experiment has no version.');
  const version = Number(match[1]);
  if (version > linkVersion)
    return fail(
      `This link was made by a newer version of CAI Playground (link format ${version}; this page reads ${linkVersion}). Reload the page to get the latest version.`,
    );
  if (version !== 1 && version !== linkVersion)
    return fail(`This link's format (${version}) is not known.`);
  const bytes = fromBase64Url(match[2]!);
  if (!bytes || bytes.length === 0)
    return fail('This link is damaged: it has characters a share link never has.');
  let json: string;
  try {
    json = await unpack(bytes, version);
  } catch (error) {
    if (error instanceof TooLarge)
      return fail(
        `This link unpacks to more than ${maxLinkJson / 2 ** 20} MB, far more than any experiment: it was refused without unpacking the rest.`,
      );
    if (error instanceof Error && error.message.startsWith('This link')) return fail(error.message);
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
  const shared: DecodedLink = { ok: true, experiment: checked.experiment, hidden };
  return version === 1 ? { ...shared, note: oldNote } : shared;
}
