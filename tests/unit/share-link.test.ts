import { describe, expect, it } from 'vitest';
import { defaultExperiment } from '../../src/lib/experiment/experiment.ts';
import { crc32Hex } from '../../src/lib/util/crc32.ts';
import { Rng } from '../../src/lib/util/random.ts';
import {
  decodeShareLink,
  encodeShareLink,
  fromBase64Url,
  isShareLink,
  toBase64Url,
} from '../../src/lib/experiment/share-link.ts';

/** A link's payload made by hand, for links the app would never write (format 1: no check). */
async function linkOf(json: string, version = 1): Promise<string> {
  const text = version === 1 ? json : crc32Hex(json) + json;
  const stream = new Blob([new TextEncoder().encode(text)])
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
    const newer = await decodeShareLink(hash.replace('#x=2.', '#x=3.'));
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
        'This link\'s experiment is not valid: models.feedback must be a model folder name or a Hugging Face id like "owner/name" (at a revision: "owner/name@v1").',
      );
  });

  it('keeps only known panel names from a crafted link', async () => {
    const json = JSON.stringify({ experiment: defaultExperiment(), hidden: ['results', 'x', 3] });
    expect(await decodeShareLink(await linkOf(json))).toMatchObject({ hidden: ['results'] });
  });

  it('CRC-32 is the standard one', () => {
    expect(crc32Hex('123456789')).toBe('cbf43926');
    expect(crc32Hex('')).toBe('00000000');
  });

  it('a link with changed characters never opens a different experiment', async () => {
    const e = defaultExperiment();
    const hash = await encodeShareLink(e);
    const [head, payload] = [hash.slice(0, '#x=2.'.length), hash.slice('#x=2.'.length)];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const rng = new Rng(5);
    let refused = 0;
    for (let trial = 0; trial < 200; trial++) {
      const chars = [...payload];
      for (let k = 0; k <= rng.int(3); k++) chars[rng.int(chars.length)] = rng.pick([...alphabet]);
      const back = await decodeShareLink(head + chars.join(''));
      if (back.ok) expect(back.experiment).toEqual(e);
      else refused++;
    }
    expect(refused).toBeGreaterThan(150); // only changes that leave the bytes alone may open
  });

  it('says when the check digits do not match', async () => {
    const json = JSON.stringify({ experiment: defaultExperiment() });
    const link = await linkOf(json, 2);
    expect((await decodeShareLink(link)).ok).toBe(true);
    const wrong = await linkOf(json.replace('"seed":1', '"seed":2'), 1); // format-1 bytes…
    const back = await decodeShareLink(wrong.replace('#x=1.', '#x=2.')); // …read as format 2
    expect(back).toEqual({
      ok: false,
      message: expect.stringMatching(/^This link is damaged: its check digits do not match/),
    });
  });

  it('opens a link made before the check, with a note', async () => {
    const back = await decodeShareLink(
      await linkOf(JSON.stringify({ experiment: defaultExperiment() })),
    );
    expect(back.ok).toBe(true);
    if (back.ok) expect(back.note).toMatch(/before share links carried a check/);
  });

  it('refuses a link that unpacks to more than 1 MB without unpacking it all', async () => {
    const bomb = await linkOf(`{"experiment": "${'a'.repeat(32 * 2 ** 20)}"}`, 2);
    expect(bomb.length).toBeLessThan(100_000);
    expect(await decodeShareLink(bomb)).toEqual({
      ok: false,
      message:
        'This link unpacks to more than 1 MB, far more than any experiment: it was refused without unpacking the rest.',
    });
  });

  it('any other hash is a link gone wrong, with the same clear message', async () => {
    for (const hash of ['#x', '#X=1.', '##x=1.', '#hello']) {
      expect(isShareLink(hash)).toBe(true);
      expect(await decodeShareLink(hash)).toEqual({
        ok: false,
        message: 'This link is damaged: it does not hold a CAI Playground experiment.',
      });
    }
    expect(isShareLink('')).toBe(false);
    expect(isShareLink('#')).toBe(false);
  });
});
