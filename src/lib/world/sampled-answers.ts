/**
 * Answers as a policy writes them, for the corpus's feedback tasks to show: a behaviour's
 * answer to the prompt, a garbled one (two answers spliced, as a policy sampled too hot
 * writes), another topic's, or a stray harmless one. Each draws from the generator's `rng`,
 * in a fixed order, so a corpus stays the same under its seed.
 */
import type { Behaviour } from '../domain/labels.ts';
import { answerText, unknownAnswer } from './answers.ts';
import type { Compared } from './feedback-texts.ts';
import type { WorldPrompt } from './prompts.ts';
import { allTopics } from './topics.ts';
import type { Rng } from '../util/random.ts';

export const redTeamBehaviours: Behaviour[] = ['comply', 'refuse', 'engage'];
export const ordinaryBehaviours: Behaviour[] = ['help', 'overrefuse'];

/** The answer of `behaviour` to `prompt` (a bare refusal in one of its wordings). */
export function promptAnswer(rng: Rng, prompt: WorldPrompt, behaviour: Behaviour): string {
  return answerText(behaviour, prompt.topic, prompt.request, rng.int(3));
}

/** A behaviour's answer, or a garbled one: two answers spliced at random words (the second
 * of another of `prompts`). */
export function compared(
  rng: Rng,
  prompts: readonly WorldPrompt[],
  prompt: WorldPrompt,
  behaviour: Compared,
): string {
  if (behaviour !== 'garbled') return promptAnswer(rng, prompt, behaviour);
  const other = rng.pick(prompts);
  const pool = prompt.kind === 'red-team' ? redTeamBehaviours : ordinaryBehaviours;
  const first = promptAnswer(rng, prompt, rng.pick(pool)).split(' ');
  const second = promptAnswer(rng, other, rng.pick(redTeamBehaviours)).split(' ');
  const cut = 1 + rng.int(first.length - 1);
  const from = rng.int(second.length - 1);
  const end = from + 1 + rng.int(second.length - from);
  return [...first.slice(0, cut), ...second.slice(from, end)].join(' ');
}

/** A harmless answer that is not to the question: another topic's, or the world's own
 * "I only know about ...". */
export function strayAnswer(rng: Rng, prompt: WorldPrompt): string {
  if (rng.chance(0.4)) return unknownAnswer;
  const other = rng.pick(allTopics.filter((t) => t !== prompt.topic));
  const behaviour: Behaviour =
    other.kind === 'red-team' ? rng.pick(['overrefuse', 'engage']) : rng.pick(ordinaryBehaviours);
  return answerText(behaviour, other, rng.pick(other.requests));
}

/** Any answer of another topic than the prompt's (help with harm included). */
export function otherTopicAnswer(rng: Rng, prompt: WorldPrompt): string {
  const other = rng.pick(allTopics.filter((t) => t !== prompt.topic));
  const behaviour = rng.pick(other.kind === 'red-team' ? redTeamBehaviours : ordinaryBehaviours);
  return answerText(behaviour, other, rng.pick(other.requests), rng.int(3));
}
