/**
 * How a critique relates to the principle sampled for it, for the chain view (pure): the
 * critique's words that the principle also uses, marked; and, for the tiny world (whose
 * critiques name a principle in a known form), whether it names the sampled one.
 */
import { critiquePrinciple } from '../../world/feedback-texts.ts';
import { principleOf } from '../../world/principles.ts';

export type PrincipleLink =
  | { kind: 'match'; name: string }
  | { kind: 'other'; name: string; sampled: string }
  | { kind: 'none' }
  /** A principle or critique the tiny world did not write: no exact check. */
  | { kind: 'unknown' };

/** Whether a tiny-world critique names the principle sampled for it. */
export function principleLink(principle: string, critique: string): PrincipleLink {
  const sampled = principleOf(principle);
  if (!sampled) return { kind: 'unknown' };
  const named = critiquePrinciple(critique);
  if (!named) return { kind: 'none' };
  return named === sampled
    ? { kind: 'match', name: named.name }
    : { kind: 'other', name: named.name, sampled: sampled.name };
}

const stopWords = new Set(
  'that this with what from your have will would should could about which their there them they than then when were been being does into only also most more least very just'.split(
    ' ',
  ),
);

/** The words (of four letters or more, not common ones) of a text, lower-cased, in stem form. */
const stem = (word: string) => word.toLowerCase().replace(/(ing|ful|ly|s)$/, '');
function keyWords(text: string): Set<string> {
  const words = text.match(/[A-Za-z]{4,}/g) ?? [];
  return new Set(words.filter((w) => !stopWords.has(w.toLowerCase())).map(stem));
}

/** The critique cut into pieces, each marked when it is a word the principle also uses. */
export function sharedWords(
  principle: string,
  critique: string,
): { text: string; shared: boolean }[] {
  const keys = keyWords(principle);
  return critique
    .split(/([A-Za-z]+)/)
    .filter((piece) => piece !== '')
    .map((text) => ({
      text,
      shared: text.length >= 4 && !stopWords.has(text.toLowerCase()) && keys.has(stem(text)),
    }));
}
