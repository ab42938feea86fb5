/**
 * The principle library: about ten kinds of principle, each with paraphrases. A
 * constitution is a list of principle texts; the tiny world knows which kind each
 * paraphrase is, and pretraining shows critiques and revisions written for random
 * sub-constitutions, so what a constitution says changes what the model does.
 */

export type PrincipleKind =
  | 'harmless'
  | 'nontoxic'
  | 'honest'
  | 'legal'
  | 'privacy'
  | 'explain'
  | 'nuanced'
  | 'helpful'
  | 'ethical'
  | 'fair';

export interface PrincipleInfo {
  kind: PrincipleKind;
  /** The word a critique uses to name the principle ("the principle to be {name}"). */
  name: string;
  /** What a complying answer does wrong under this principle (critique wording). */
  violation: string;
  paraphrases: string[];
}

export const principleLibrary: PrincipleInfo[] = [
  {
    kind: 'harmless',
    name: 'harmless',
    violation: 'could lead to real harm',
    paraphrases: [
      'Choose the response that is the least harmful.',
      'Do not help anyone cause harm.',
      'Avoid answers that could hurt people.',
    ],
  },
  {
    kind: 'nontoxic',
    name: 'respectful',
    violation: 'is hurtful toward other people',
    paraphrases: [
      'Choose the response that is the least toxic or rude.',
      'Be respectful and never insulting.',
      'Avoid offensive or hateful language.',
    ],
  },
  {
    kind: 'honest',
    name: 'honest',
    violation: 'hides how risky and dishonest this is',
    paraphrases: [
      'Choose the response that is the most honest.',
      'Be truthful and do not help people deceive others.',
      'Never help with lies or tricks.',
    ],
  },
  {
    kind: 'legal',
    name: 'lawful',
    violation: 'helps with something illegal',
    paraphrases: [
      'Do not help with illegal activity.',
      'Choose the response that respects the law.',
      'Avoid helping anyone break the law.',
    ],
  },
  {
    kind: 'privacy',
    name: 'private',
    violation: 'could invade someone’s privacy or safety',
    paraphrases: [
      'Respect the privacy of every person.',
      'Do not help anyone spy on others.',
      'Protect personal information.',
    ],
  },
  {
    kind: 'explain',
    name: 'engaging',
    violation: 'goes along with a harmful request instead of explaining the problem',
    paraphrases: [
      'Engage thoughtfully rather than refusing: explain your objection and offer a safe alternative.',
      'Explain objections instead of simply refusing.',
      'When you cannot help, say why and suggest something better.',
    ],
  },
  {
    kind: 'nuanced',
    name: 'thoughtful',
    violation: 'gives harmful help without any thought',
    paraphrases: [
      'Choose the response that is thoughtful and nuanced.',
      'Give careful answers that consider the whole situation.',
      'Be wise and caring, not blunt.',
    ],
  },
  {
    kind: 'helpful',
    name: 'helpful',
    violation: 'is not truly helpful because it causes harm',
    paraphrases: [
      'Choose the response that is the most helpful.',
      'Be as useful as you can to the person asking.',
      'Answer the real need behind the question.',
    ],
  },
  {
    kind: 'ethical',
    name: 'ethical',
    violation: 'is unethical',
    paraphrases: [
      'Choose the response that is the most ethical.',
      'Act as a good and moral person would.',
      'Avoid anything unethical.',
    ],
  },
  {
    kind: 'fair',
    name: 'fair',
    violation: 'treats other people unfairly',
    paraphrases: [
      'Treat everyone fairly and equally.',
      'Avoid unfair or biased answers.',
      'Do not put any group of people down.',
    ],
  },
];

const byText = new Map(
  principleLibrary.flatMap((p) => p.paraphrases.map((text) => [text, p] as const)),
);

/** The library entry for a principle text, or undefined for a text the world does not know. */
export function principleOf(text: string): PrincipleInfo | undefined {
  return byText.get(text.trim());
}

/**
 * How the world reads a principle it does not know: as a call to be harmless in general, so a
 * critique under it still holds the answer against harm ("the principle to be harmless") and an
 * unfamiliar principle neither blocks nor excuses anything. Pretraining shows constitutions with
 * such principles (`inventedPrinciples`) critiqued this way.
 */
export function principleRead(text: string): PrincipleInfo {
  return principleOf(text) ?? principleInfo('harmless');
}

/**
 * Benign principles outside the library, for pretraining only: made of a few openings and
 * wishes, so that the model learns "a principle I do not know reads as be harmless", not a list
 * of texts. (Kept apart from what the quality checks and the examples use: none of
 * these says "kind" or "encourage".)
 */
const inventedOpenings = ['Always', 'Try to', 'Please', 'Remember to', 'In every answer,'];
const inventedWishes = [
  'be patient with beginners',
  'use simple words',
  'stay calm and friendly',
  'keep answers short',
  'be cheerful',
  'be polite to everyone',
  'sound warm and welcoming',
  'give clear examples',
  'be curious about the question',
  'stay positive',
  'speak plainly',
  'be gentle with the person asking',
  'thank the user for asking',
  'write in a friendly tone',
  'be supportive',
];
export const inventedPrinciples: string[] = inventedOpenings.flatMap((opening) =>
  inventedWishes.map((wish) => `${opening} ${wish}.`),
);

export function principleInfo(kind: PrincipleKind): PrincipleInfo {
  return principleLibrary.find((p) => p.kind === kind)!;
}

/** The seed constitution: four principles and the explain-objections principle. */
export const seedConstitution = [
  'Choose the response that is the least harmful.',
  'Choose the response that is the least toxic or rude.',
  'Choose the response that is the most honest.',
  'Do not help with illegal activity.',
  'Engage thoughtfully rather than refusing: explain your objection and offer a safe alternative.',
];

/** Whether a constitution (list of principle texts) asks for explaining over refusing. */
export function asksToExplain(constitution: string[]): boolean {
  return constitution.some((text) => principleOf(text)?.kind === 'explain');
}
