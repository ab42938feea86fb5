/**
 * `npm run quality`'s checks of critiques and revisions: complying answers to held-out
 * red-team requests critiqued under random sub-constitutions (is the sampled principle named,
 * the constitution's stance on explaining stated?), the critic's blind spot on disguised
 * requests, and revisions with and without the explain-objections principle.
 */
import { answerText } from '../../src/lib/world/answers.ts';
import { critiquePrinciple, critiqueText, stance } from '../../src/lib/world/feedback-texts.ts';
import { WorldGenerator } from '../../src/lib/world/generator.ts';
import { judgeAnswer, labelRates } from '../../src/lib/world/judge.ts';
import { principleLibrary, principleOf, seedConstitution } from '../../src/lib/world/principles.ts';
import type { WorldPrompt } from '../../src/lib/world/prompts.ts';
import { Rng } from '../../src/lib/util/random.ts';
import {
  defaultTemplates,
  formatConstitution,
  renderTemplate,
} from '../../src/lib/world/templates.ts';
import { answer, refuseShare, type Loaded } from './quality-model.ts';

/** The critique and revision checks of `npm run quality` (rows 2 and 3 of its table). */
export async function critiqueChecks(loaded: Loaded, redTeam: WorldPrompt[], seed: number) {
  const world = new WorldGenerator(seed + 100);
  const rng = new Rng(seed + 200);
  const explain = principleLibrary.find((p) => p.kind === 'explain')!;
  // Disguised requests are left out: the critic's blind spot makes it call going along with
  // them fine (by design; the world tests check it), so they have no principle to name.
  const settings = redTeam
    .filter((p) => !p.disguised)
    .map((p: WorldPrompt) => {
      const constitution = world.constitution().filter((t) => principleOf(t)!.kind !== 'explain');
      const principle = rng.pick(constitution);
      return {
        prompt: p,
        constitution,
        principle,
        response: answerText('comply', p.topic, p.request),
        explainText: rng.pick(explain.paraphrases),
        explainAt: rng.int(6),
      };
    });
  /** The constitution of a setting, with the explain-objections principle inserted or not. */
  const constitutionOf = (s: (typeof settings)[number], withExplain: boolean) => {
    if (!withExplain) return s.constitution;
    const out = [...s.constitution];
    out.splice(s.explainAt % (out.length + 1), 0, s.explainText);
    return out;
  };
  const critique = async (withExplain: boolean) =>
    answer(
      loaded,
      settings.map((s) =>
        renderTemplate(defaultTemplates.critique, {
          constitution: formatConstitution(constitutionOf(s, withExplain)),
          question: s.prompt.text,
          response: s.response,
          principle: s.principle,
        }),
      ),
      0,
      seed,
    );
  const critiquesWith = await critique(true);
  const critiquesWithout = await critique(false);
  const critiques = [...critiquesWith, ...critiquesWithout];
  // The blind spot: critiques of going along with a disguised request (seed constitution).
  const disguised = redTeam.filter((p) => p.disguised);
  const blind = await answer(
    loaded,
    disguised.map((p) =>
      renderTemplate(defaultTemplates.critique, {
        constitution: formatConstitution(seedConstitution),
        question: p.text,
        response: answerText('comply', p.topic, p.request),
        principle: rng.pick(seedConstitution),
      }),
    ),
    0,
    seed,
  );
  const missed = blind.filter((c) => critiquePrinciple(c) === undefined).length / blind.length;
  const named = critiques.filter((c) => critiquePrinciple(c) !== undefined).length;
  const namedRight = critiques.filter(
    (c, i) => critiquePrinciple(c) === principleOf(settings[i % settings.length]!.principle),
  ).length;
  const stanceRight =
    critiquesWith.filter((c) => c.includes(stance(true))).length +
    critiquesWithout.filter((c) => c.includes(stance(false))).length;

  const revise = async (withExplain: boolean) => {
    // The revision format: the constitution, and the world's critique for it.
    const messages = settings.map((s) =>
      renderTemplate(defaultTemplates.revision, {
        constitution: formatConstitution(constitutionOf(s, withExplain)),
        question: s.prompt.text,
        response: s.response,
        critique: critiqueText(
          'plain',
          'comply',
          principleOf(s.principle)!,
          s.prompt.topic,
          0,
          withExplain,
        ),
      }),
    );
    const texts = await answer(loaded, messages, 0, seed);
    return {
      labels: labelRates(texts.map((t, i) => judgeAnswer(t, 'red-team', settings[i]!.prompt.text))),
      refuseShare: await refuseShare(
        loaded,
        messages,
        settings.map((s) => s.prompt),
      ),
    };
  };
  const { labels: withExplain, refuseShare: refuseWith } = await revise(true);
  const { labels: withoutExplain, refuseShare: refuseWithout } = await revise(false);
  return {
    disguised,
    missed,
    critiques,
    named,
    namedRight,
    stanceRight,
    withExplain,
    withoutExplain,
    refuseWith,
    refuseWithout,
  };
}
