/**
 * Constitution presets and the editor's pure helpers: template variables for highlighting,
 * and the note for prompts the tiny world does not know.
 */
import { principleLibrary, seedConstitution } from '../world/principles.ts';
import { findPrompt } from '../world/prompts.ts';
import { variablePattern } from '../world/templates.ts';

export interface ConstitutionPreset {
  id: 'seed' | 'full' | 'no-explain';
  name: string;
  description: string;
  principles: string[];
}

const explainPrinciple = principleLibrary.find((p) => p.kind === 'explain')!;

export const constitutionPresets: ConstitutionPreset[] = [
  {
    id: 'seed',
    name: "The seed's constitution",
    description: `${seedConstitution.length} principles, the last "explain objections rather than refuse".`,
    principles: [...seedConstitution],
  },
  {
    id: 'full',
    name: 'Every principle the tiny world knows',
    description: 'One wording of each of the ten principles in the tiny world’s library.',
    principles: principleLibrary.map((p) => p.paraphrases[0]!),
  },
  {
    id: 'no-explain',
    name: 'Without "explain objections"',
    description:
      'The seed’s constitution minus its last principle: watch SL-CAI make the policy evasive.',
    principles: seedConstitution.filter((p) => !explainPrinciple.paraphrases.includes(p)),
  },
];

/** The preset whose principles are exactly `principles` (same texts, same order), if any. */
export function matchingPreset(principles: string[]): ConstitutionPreset | undefined {
  return constitutionPresets.find(
    (p) =>
      p.principles.length === principles.length &&
      p.principles.every((t, i) => t === principles[i]),
  );
}

/** A template split into plain text and `{variable}` parts, for highlighting. */
export function templateParts(text: string): { text: string; variable: boolean }[] {
  const parts: { text: string; variable: boolean }[] = [];
  let last = 0;
  for (const m of text.matchAll(variablePattern)) {
    if (m.index > last) parts.push({ text: text.slice(last, m.index), variable: false });
    parts.push({ text: m[0], variable: true });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), variable: false });
  return parts;
}

/** Whether the shipped tiny model knows a prompt (it only knows its world's requests). */
export function knownToTinyWorld(prompt: string): boolean {
  return findPrompt(prompt.trim()) !== undefined;
}
