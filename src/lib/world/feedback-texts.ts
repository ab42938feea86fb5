import type { CritiqueMode } from '../domain/modes.ts';
import type { Behaviour } from '../domain/labels.ts';
import { answerText } from './answers.ts';
import { asksToExplain, principleLibrary, type PrincipleInfo } from './principles.ts';
import type { Topic } from './topics.ts';

/**
 * What an ideal feedback model writes in the tiny world: critiques (plain, strict,
 * chain-of-thought), revisions and A/B judgements. The pretraining corpus is made of these
 * (with some noise), and the world's rules here are what CAI should teach.
 */

const noChange = 'No changes are needed.';

/** What a critic can see in a response: a behaviour to the question, or a stray answer
 * (harmless, but not to the question: another topic's, or "I only know about ..."). */
export type Seen = Behaviour | 'stray';

/** Whether a critique of `behaviour` under `principle` asks for a change. The world's critic
 * looks for harm and for refusals: a stray answer has neither, so it is left as it is. */
export function needsChange(behaviour: Seen, principle: PrincipleInfo): boolean {
  if (behaviour === 'comply') return true;
  if (behaviour === 'refuse') return principle.kind === 'explain';
  if (behaviour === 'overrefuse')
    return principle.kind === 'helpful' || principle.kind === 'explain';
  return false;
}

/**
 * How a critique of a harmful answer ends: it says whether the constitution asks to explain
 * objections, and so what the revision should do. The critique states the constitution's
 * stance in a fixed phrase, right where it matters, which a small model learns reliably.
 */
export function stance(explains: boolean): string {
  return explains
    ? 'The constitution asks to explain objections, so it should explain the concern and offer a safe alternative.'
    : 'The constitution does not ask to explain objections, so it should not give this help.';
}

/** How a critique names the principle it holds the response against. */
const namedPrinciple = (principle: PrincipleInfo) => `the principle to be ${principle.name}`;
const namedPattern = /the principle to be (\w+)/;

/** The principle a tiny-world critique names (the inverse of the critique texts), if any. */
export function critiquePrinciple(critique: string): PrincipleInfo | undefined {
  const name = namedPattern.exec(critique)?.[1];
  return name === undefined ? undefined : principleLibrary.find((p) => p.name === name);
}

function plainCritique(
  behaviour: Seen,
  principle: PrincipleInfo,
  topic: Topic,
  explains: boolean,
): string {
  const named = namedPrinciple(principle);
  if (!needsChange(behaviour, principle)) {
    if (behaviour === 'engage')
      return `The response explains the concern and offers a safe alternative. ${noChange}`;
    if (behaviour === 'help') return `The response is helpful and harmless. ${noChange}`;
    if (behaviour === 'stray')
      return `The response does not answer the question, but it is harmless. ${noChange}`;
    return `The response does not help with anything harmful. ${noChange}`;
  }
  if (behaviour === 'comply')
    return `The response helps with ${topic.noun}, which ${principle.violation}. This goes against ${named}. ${stance(explains)}`;
  if (behaviour === 'refuse')
    return `The response refuses without explaining why. This goes against ${named}. It should explain the concern and offer a safe alternative.`;
  return `The response refuses a harmless request. This goes against ${named}. It should simply help.`;
}

const strictMinorIssues = [
  'A minor issue: the response could be more specific.',
  'A minor issue: the response could be warmer in tone.',
];

function strictCritique(
  behaviour: Seen,
  principle: PrincipleInfo,
  topic: Topic,
  variant: number,
  explains: boolean,
): string {
  const plain = lowerFirst(plainCritique(behaviour, principle, topic, explains));
  if (needsChange(behaviour, principle)) return `The main issue: ${plain}`;
  return `${strictMinorIssues[variant % strictMinorIssues.length]} Otherwise, ${plain}`;
}

/** The four yes/no questions of the chain-of-thought critique, and their answers by behaviour. */
export const cotQuestions = [
  'Does it help with something harmful?',
  'Is it rude or unfair to anyone?',
  'Does it refuse without explaining why?',
  'Does it offer something useful?',
];

const cotAnswers: Record<Seen, [boolean, boolean, boolean, boolean]> = {
  comply: [true, false, false, false],
  refuse: [false, false, true, false],
  engage: [false, false, false, true],
  help: [false, false, false, true],
  overrefuse: [false, false, true, false],
  stray: [false, false, false, false],
};

function cotCritique(
  behaviour: Seen,
  principle: PrincipleInfo,
  topic: Topic,
  explains: boolean,
): string {
  const answers = cotAnswers[behaviour];
  const steps = cotQuestions.map((q, i) => `${i + 1}. ${q} ${answers[i] ? 'Yes.' : 'No.'}`);
  return `${steps.join('\n')}\nSo: ${plainCritique(behaviour, principle, topic, explains)}`;
}

/**
 * The critique of `behaviour` under `principle`; `explains` says whether the whole
 * constitution asks to explain objections (it decides what a harmful answer should become).
 */
export function critiqueText(
  mode: CritiqueMode,
  behaviour: Seen,
  principle: PrincipleInfo,
  topic: Topic,
  variant = 0,
  explains = false,
): string {
  if (mode === 'strict') return strictCritique(behaviour, principle, topic, variant, explains);
  if (mode === 'cot') return cotCritique(behaviour, principle, topic, explains);
  return plainCritique(behaviour, principle, topic, explains);
}

/**
 * The behaviour a revision turns `behaviour` into under a constitution: a harmful answer
 * becomes an explanation with an alternative when the constitution asks to explain
 * objections, and a bare refusal when it does not (the evasiveness the CAI paper warns of).
 */
export function revisedBehaviour(
  behaviour: Behaviour,
  changed: boolean,
  constitution: string[],
): Behaviour {
  if (!changed) return behaviour;
  if (behaviour === 'comply') return asksToExplain(constitution) ? 'engage' : 'refuse';
  if (behaviour === 'refuse') return 'engage';
  if (behaviour === 'overrefuse') return 'help';
  return behaviour;
}

export function revisionText(
  behaviour: Behaviour,
  changed: boolean,
  constitution: string[],
  topic: Topic,
  request: string,
  variant = 0,
): string {
  return answerText(revisedBehaviour(behaviour, changed, constitution), topic, request, variant);
}

/** What a preference example compares: a behaviour, or a garbled answer (a broken sample). */
export type Compared = Behaviour | 'garbled';

/** How the chain-of-thought judgement describes each behaviour. */
const described: Record<Compared, string> = {
  comply: 'gives harmful help',
  refuse: 'refuses without explaining why',
  engage: 'explains the concern and offers a safe alternative',
  help: 'gives useful help',
  overrefuse: 'refuses a harmless request',
  garbled: 'is garbled and answers nothing',
};

/** Higher is better under `principle`; a garbled answer loses to every real one. */
export function preferenceScore(behaviour: Compared, principle: PrincipleInfo): number {
  if (behaviour === 'garbled') return -1;
  const explainFirst = principle.kind === 'explain' || principle.kind === 'helpful';
  const scores: Record<Behaviour, number> = {
    engage: 3,
    refuse: explainFirst ? 1 : 2,
    comply: 0,
    help: 3,
    overrefuse: explainFirst ? 0 : 1,
  };
  return scores[behaviour];
}

export function preferenceReasoning(a: Compared, b: Compared, winner: 'A' | 'B'): string {
  return `Response (A) ${described[a]}. Response (B) ${described[b]}. So the answer is (${winner}).`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The part of a tiny-world critique the revision prompt quotes (the inverse of the critique
 * texts above): a chain-of-thought critique's
 * conclusion (after "So:"), a strict critique's judgement without its "main issue" /
 * "minor issue" framing, a plain critique as it is.
 */
export function critiqueForRevision(mode: CritiqueMode, critique: string): string {
  const text = critique.trim();
  if (mode === 'cot') {
    const at = text.lastIndexOf('So:');
    return at >= 0 ? text.slice(at + 3).trim() : text;
  }
  if (mode === 'strict') {
    const main = /^The main issue:\s*/i.exec(text);
    if (main) return capitalise(text.slice(main[0].length));
    const otherwise = /Otherwise,\s*/.exec(text);
    if (otherwise) return capitalise(text.slice(otherwise.index + otherwise[0].length));
  }
  return text;
}
