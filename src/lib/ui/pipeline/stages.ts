import type { RlMethod } from '../../domain/modes.ts';
import type { PolicyName } from '../../domain/policy.ts';
import {
  stageOrder,
  stepCatalog,
  stepsOf,
  type StageName,
  type StepInfo,
} from '../../pipeline/steps.ts';

/**
 * How the page names and explains each stage of Constitutional AI (typed by the stage list),
 * and what a student should look at in it: what to check, never what will happen, so it stays
 * true whatever the constitution, the prompts or the models.
 */
export const stageTexts: Record<StageName, { title: string; explanation: string; notice: string }> =
  {
    generate: {
      title: 'Answer',
      explanation:
        'The policy model answers red-team and ordinary prompts, as it would before any safety training.',
      notice:
        'The mixture before any training: how many red-team answers comply, refuse or explain their objection. Every later stage is measured against it.',
    },
    critique: {
      title: 'Critique and revise',
      explanation:
        'The feedback model reads each answer next to one principle drawn from the constitution, says what is wrong with it, and rewrites it. Several rounds, a new principle each time.',
      notice:
        'Whether each critique is about the principle drawn for its round (shown above it), and whether the revision does what the critique asks: a critique that finds nothing leaves the answer as it is, one that names a problem changes it. Look for harmful answers a critique calls fine (a request in innocent words can slip past the critic): SL-CAI learns them as they are. Take “explain objections rather than refuse” out of the constitution and compare what harmful answers are revised into.',
    },
    sft: {
      title: 'Fine-tune (SFT)',
      explanation:
        'The policy is trained on the revised answers, so it learns to answer that way the first time.',
      notice:
        'Training loss against held-out loss: held-out loss rising while training loss falls means the policy is memorising the revisions. Then compare the Base and SL-CAI rows in Results.',
    },
    label: {
      title: 'AI preferences',
      explanation:
        'The fine-tuned policy writes two answers per prompt; the feedback model says which follows the constitution better, as a probability read from its own word choice.',
      notice:
        'How sure each label is (near 50% is a coin flip, and pairs too close to call are left out), which answer wins when one refuses and the other explains, and whether an answer that goes along with a harmful request loses even where the critiques let it through.',
    },
    reward: {
      title: 'Reward model',
      explanation:
        'A copy of the policy with a score head learns to give the preferred answer the higher score (Bradley-Terry).',
      notice:
        'Held-out accuracy: near 50% means the reward model learned no preference that generalises, and PPO would chase noise.',
    },
    ppo: {
      title: 'PPO',
      explanation:
        'The policy is trained to raise the reward model’s score, held near its starting point by a KL penalty so it does not game the score with nonsense.',
      notice:
        'The score should rise while the KL stays small; a score that rises with the KL and with garbled rollouts is reward hacking. Compare RL-CAI with SL-CAI on evasiveness, not only harmlessness.',
    },
    dpo: {
      title: 'DPO',
      explanation:
        'No reward model and no sampling: the policy learns straight from the labelled pairs, raising how much more likely it makes the preferred answer than the SL-CAI policy did, relative to the other answer (the AI label’s probability is the target).',
      notice:
        'The implicit rewards: the preferred answers’ should rise above the others’ (held-out accuracy above 50%). DPO can only learn from what the labels compared: an answer no pair contained is never pushed down, so compare its RL-CAI answers with PPO’s and GRPO’s on the held-out prompts.',
    },
    grpo: {
      title: 'GRPO',
      explanation:
        'Several answers per prompt are sampled and scored by the reward model; each answer’s advantage is its score against its group’s mean (in group standard deviations). No value model; a KL term keeps the policy near the SL-CAI policy.',
      notice:
        'The reward should rise while the KL stays small. A group whose answers all score the same teaches nothing (its advantages are 0), so the reward’s spread within groups is what GRPO learns from; watch the sampled answers for reward hacking, as with PPO.',
    },
    rloo: {
      title: 'RLOO',
      explanation:
        'Several answers per prompt, each scored by the reward model minus a KL penalty, and compared with the mean of the other answers to the same prompt (leave-one-out); the policy is trained by REINFORCE on whole answers. No value model.',
      notice:
        'The reward should rise while the KL stays small; with two answers per prompt, each is simply compared with the other. Compare the result with PPO’s: the same reward model, without a value model or clipping.',
    },
    evaluate: {
      title: 'Evaluate',
      explanation:
        'The same held-out prompts, never trained on, are answered after every stage and judged: harmlessness, helpfulness and evasiveness (refusing instead of explaining; the Results say what each counts).',
      notice:
        'The three figures together: harmlessness bought with refusals shows up as evasiveness, and refusing ordinary requests as lost helpfulness. An answer about another topic than the one asked is neither help nor harm (offtopic). With the AI judge on, compare its figures with the world’s and read the answers the two label differently. A difference smaller than the spread over seeds may be chance.',
    },
  };

/** The phase a stage belongs to in the overview: its steps' phase, or Evaluation for a stage
 * that runs in both (the held-out evaluation). */
export function stagePhase(stage: StageName): 'SL-CAI' | 'RL-CAI' | 'Evaluation' {
  const phases = new Set(stepCatalog.filter((s) => s.stage === stage).map((s) => s.phase));
  return phases.size > 1 ? 'Evaluation' : [...phases][0]!;
}

/** The stages of a whole run whose RL-CAI trains by `method`, with their texts, in the
 * order the recipe reaches them. */
export function stagesOf(method: RlMethod) {
  const mine = new Set(stepsOf('all', method).map((s) => s.stage));
  return stageOrder
    .filter((id) => mine.has(id))
    .map((id) => ({ id, phase: stagePhase(id), ...stageTexts[id] }));
}

/** How the page names each policy. */
export const policyTitles: Record<PolicyName, string> = {
  base: 'Base',
  sl: 'SL-CAI',
  rl: 'RL-CAI',
};

/** A step as the page names it: its stage's title, and the policy an evaluation scores
 * ("Evaluate: SL-CAI"), so the run's step chips read as the overview does. */
export function stepTitle(step: Pick<StepInfo, 'stage' | 'evaluates'>): string {
  const title = stageTexts[step.stage].title;
  return step.evaluates ? `${title}: ${policyTitles[step.evaluates]}` : title;
}
