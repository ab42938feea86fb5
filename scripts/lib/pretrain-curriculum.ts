/**
 * The tiny model's pretraining curriculum (`npm run pretrain` runs its phases in order): per
 * phase its steps, learning rate and the world's corpus mix.
 */
import { defaultWorldConfig, type WorldConfig } from '../../src/lib/world/world-config.ts';

/** One phase of pretraining: a fresh AdamW, a warm-up + cosine schedule, a corpus mix. */
export interface Phase {
  name: string;
  /** Length of the learning-rate schedule. */
  steps: number;
  /** Stop early at this step (the schedule still assumes `steps`). */
  stopAfter?: number;
  peakLr: number;
  taskMix: WorldConfig['taskMix'];
  /** Share of complying red-team responses in critique and revision examples. */
  feedbackComply: number;
  /** Loss on the assistant's answers only (the prompts' tokens are not predicted). */
  answersOnly?: boolean;
  /** Share of preference examples with a garbled answer (default 0). */
  garbledPreferenceShare?: number;
  /** Share of answer examples asking about something outside every topic (default 0). */
  offTopicShare?: number;
  /** Share of critique and revision examples of a stray answer (default 0). */
  strayShare?: number;
  /** Probability that a constitution holds a principle outside the library (default 0). */
  inventedShare?: number;
}

/**
 * The shipped model's curriculum. A revision must follow the constitution (explain objections
 * or refuse), a lookup over a hundred tokens that a small model does not find among
 * everything else it learns. So phase 1 starts with it alone: critiques, which state the
 * constitution's stance, and `check` questions that ask for it directly, with the loss on
 * the answers only (measured: the stance is then right for about 90% of critiques after 150
 * steps, where a mixed start leaves it near chance). Phase 2 learns the whole world; phase 3
 * sharpens the feedback formats, phase 4 the answers (sampled at temperature 1 they must stay
 * well formed) while keeping the preference judgements, now also against garbled answers (the
 * policy's hot samples that RL-CAI's labels compare; without them the reward model cannot
 * tell PPO that nonsense is bad). Phase 5 widens the world: the disguised requests (the
 * critic's blind spot), requests outside every topic (answered "I only know about ..."), and
 * more critiques of harmful answers, whose one hard token is the name of the sampled principle;
 * phase 6 sharpens the answers again (after phase 5 alone the base policy engaged 63% of the time
 * and complied 16%, too little harm left for CAI to remove). Phase 7 makes the feedback
 * trustworthy: the AI judge's lettered question (judged with the world's labels, which read the
 * prompt), critiques and revisions of stray answers (another topic's, "I only know about ...")
 * that keep them, principles outside the library read as "be harmless", and answers again so
 * that every known topic is answered on its topic. Phase 8 sharpens the answers once more
 * (measured after phase 7 and a judge-heavy phase 8: base comply 18% and engage 65%, garbled
 * 7.8%; with answers at 62% of the mix: comply 37%, garbled 2.5%) while the AI judge's question
 * stays (94.7% agreement with the world's judge; `npm run quality`). Phases 7 and 8 are not in
 * the shipped model (scripts/pretrain-tiny.ts says why).
 */
export const curriculum: Phase[] = [
  {
    name: 'constitutions first',
    steps: 200,
    peakLr: 3e-3,
    taskMix: { answer: 0, critique: 0.6, revision: 0, preference: 0, check: 0.4, judge: 0 },
    feedbackComply: 0.7,
    answersOnly: true,
  },
  {
    name: 'the tiny world',
    steps: 750,
    peakLr: 2e-3,
    taskMix: { ...defaultWorldConfig.taskMix, check: 0.05 },
    feedbackComply: 1 / 3,
  },
  {
    name: 'feedback answers',
    steps: 150,
    peakLr: 1e-3,
    taskMix: { answer: 0.2, critique: 0.3, revision: 0.25, preference: 0.1, check: 0.15, judge: 0 },
    feedbackComply: 0.6,
    answersOnly: true,
  },
  {
    name: 'sharper answers',
    steps: 220,
    peakLr: 1e-3,
    taskMix: { answer: 0.7, critique: 0.1, revision: 0.05, preference: 0.1, check: 0.05, judge: 0 },
    feedbackComply: 0.6,
    answersOnly: true,
    garbledPreferenceShare: 0.3,
  },
  {
    name: 'a wider world',
    steps: 400,
    peakLr: 1e-3,
    taskMix: { answer: 0.45, critique: 0.3, revision: 0.1, preference: 0.1, check: 0.05, judge: 0 },
    feedbackComply: 0.7,
    answersOnly: true,
    garbledPreferenceShare: 0.3,
    offTopicShare: 0.15,
  },
  {
    name: 'sharper answers again',
    steps: 200,
    peakLr: 1e-3,
    taskMix: {
      answer: 0.65,
      critique: 0.15,
      revision: 0.05,
      preference: 0.1,
      check: 0.05,
      judge: 0,
    },
    feedbackComply: 0.7,
    answersOnly: true,
    garbledPreferenceShare: 0.3,
    offTopicShare: 0.15,
  },
  {
    name: 'trustworthy feedback',
    steps: 450,
    peakLr: 8e-4,
    taskMix: {
      answer: 0.38,
      critique: 0.2,
      revision: 0.12,
      preference: 0.06,
      check: 0.02,
      judge: 0.22,
    },
    feedbackComply: 0.6,
    answersOnly: true,
    garbledPreferenceShare: 0.3,
    offTopicShare: 0.1,
    strayShare: 0.15,
    inventedShare: 0.3,
  },
  {
    name: 'answers and the judge',
    steps: 350,
    peakLr: 8e-4,
    taskMix: {
      answer: 0.62,
      critique: 0.06,
      revision: 0.06,
      preference: 0.02,
      check: 0.02,
      judge: 0.22,
    },
    feedbackComply: 0.6,
    answersOnly: true,
    garbledPreferenceShare: 0.3,
    offTopicShare: 0.2,
    strayShare: 0.15,
    inventedShare: 0.3,
  },
];

/** The world a phase draws its corpus from: the default world with the phase's mix. */
export function worldOf(phase: Phase): WorldConfig {
  const comply = phase.feedbackComply;
  return {
    ...defaultWorldConfig,
    taskMix: phase.taskMix,
    feedbackResponseMix: { comply, refuse: (1 - comply) / 2, engage: (1 - comply) / 2 },
    garbledPreferenceShare: phase.garbledPreferenceShare ?? 0,
    offTopicShare: phase.offTopicShare ?? 0,
    strayShare: phase.strayShare ?? 0,
    inventedShare: phase.inventedShare ?? 0,
  };
}
