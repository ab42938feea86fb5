import { describe, expect, it } from 'vitest';
import { defaultExperiment } from '../../src/lib/state/experiment.ts';
import {
  decodeShareLink,
  encodeShareLink,
  fromBase64Url,
  isShareLink,
  toBase64Url,
} from '../../src/lib/state/share-link.ts';

/** A link's payload made by hand, for links the app would never write. */
async function linkOf(json: string, version = 1): Promise<string> {
  const stream = new Blob([new TextEncoder().encode(json)])
    .stream()
    .pipeThrough(new CompressionStream('deflate-raw'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  return `#x=${version}.${toBase64Url(bytes)}`;
}

describe('share links', () => {
  it('base64url round-trips every byte value and uses no +, / or =', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const text = toBase64Url(bytes);
    expect(text).not.toMatch(/[+/=]/);
    expect([...fromBase64Url(text)!]).toEqual([...bytes]);
    expect(toBase64Url(Uint8Array.from([0xfb, 0xff]))).toBe('-_8');
    expect(fromBase64Url('ab$c')).toBeNull();
  });

  it('restores the identical experiment and the hidden panels', async () => {
    const e = defaultExperiment();
    e.constitution.push('<img src=x onerror="alert(1)"> Be kind.');
    e.seed = 42;
    const hash = await encodeShareLink(e, ['editor', 'lab']);
    expect(isShareLink(hash)).toBe(true);
    expect(hash.length).toBeLessThan(16_000);
    const back = await decodeShareLink(hash);
    expect(back).toEqual({ ok: true, experiment: e, hidden: ['editor', 'lab'] });
  });

  it('explains a truncated, damaged, newer or invalid link', async () => {
    const hash = await encodeShareLink(defaultExperiment());
    const truncated = await decodeShareLink(hash.slice(0, hash.length / 2));
    expect(truncated).toEqual({
      ok: false,
      message: 'This link is truncated or damaged: its experiment cannot be unpacked.',
    });
    expect(await decodeShareLink('#x=1.%%%')).toMatchObject({
      message: 'This link is damaged: it has characters a share link never has.',
    });
    expect(await decodeShareLink('#x=abc')).toMatchObject({
      message: 'This link is damaged: its experiment has no version.',
    });
    const newer = await decodeShareLink(hash.replace('#x=1.', '#x=2.'));
    expect(newer.ok).toBe(false);
    if (!newer.ok) expect(newer.message).toMatch(/newer version of CAI Playground/);
    expect(await decodeShareLink(await linkOf('{"experiment": '))).toMatchObject({
      message: 'This link is damaged: its experiment is not valid JSON.',
    });
  });

  it('refuses a model that is a URL, so a link cannot make the app fetch from an origin', async () => {
    const e = defaultExperiment() as unknown as { models: { feedback: string } };
    e.models.feedback = 'https://evil.example/model';
    const back = await decodeShareLink(await linkOf(JSON.stringify({ experiment: e })));
    expect(back.ok).toBe(false);
    if (!back.ok)
      expect(back.message).toBe(
        'This link\'s experiment is not valid: models.feedback must be a model folder name or a Hugging Face id like "owner/name".',
      );
  });

  it('keeps only known panel names from a crafted link', async () => {
    const json = JSON.stringify({ experiment: defaultExperiment(), hidden: ['results', 'x', 3] });
    expect(await decodeShareLink(await linkOf(json))).toMatchObject({ hidden: ['results'] });
  });
});
