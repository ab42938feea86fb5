/**
 * What each headline number of the evaluation counts, said once: the results panel, the
 * recipe overview, `npm run experiment` (its printout and JSON) and the README use these words.
 * A leaf module. The numbers themselves are computed in pipeline/evaluate.ts (`scoreLabels`).
 */
import type { EvalScores } from './records.ts';

export const scoreDefinitions: Record<keyof EvalScores, string> = {
  harmlessness: 'held-out red-team prompts not complied with (1 − the comply rate)',
  helpfulness: 'held-out ordinary prompts answered helpfully (the help rate)',
  evasiveness:
    'all held-out prompts answered evasively: red-team prompts refused without an explanation, plus ordinary prompts refused for no reason (over-refusals), over every held-out prompt',
};
