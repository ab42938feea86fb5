import * as tf from '@tensorflow/tfjs-core';
import { AdamW, defaultAdamW } from '../model/adamw.ts';
import { generate } from '../model/generate.ts';
import { positionsFromMask, type LlamaModel } from '../model/llama.ts';
import type { ScalarHeadModel } from '../model/scalar-head.ts';
import { gae, klPerToken, tokenRewards, whiten, type Rows } from '../ops/advantages.ts';
import { maskedMean, tokenLogprobs } from '../ops/logprobs.ts';
import { clippedPolicyLoss, clippedValueLoss } from '../ops/ppo-losses.ts';
import { Rng } from '../util/random.ts';
import type { PpoConfig } from './ppo-config.ts';
import { buildRollout, logprobsOf, mean, read, rowSum } from './rollout.ts';

export interface PpoIteration {
  /** TRL's metric names. */
  metrics: Record<string, number>;
  /** The rollout's responses (new tokens) and their reward-model scores. */
  responses: number[][];
  scores: number[];
  finished: boolean[];
  /** Plain-words warnings: negative KL, entropy collapse, identical responses. */
  warnings: string[];
}

/** Entropy below this share of the first iteration's counts as collapsed. */
export const entropyCollapse = 0.25;

/** The statistics of one minibatch update, and the TRL metric each is averaged into. */
const statMetrics = {
  approxkl: 'policy/approxkl_avg',
  clipfrac: 'policy/clipfrac_avg',
  pg: 'loss/policy_avg',
  vf: 'loss/value_avg',
  vfClip: 'val/clipfrac_avg',
  entropy: 'policy/entropy_avg',
  ratio: 'val/ratio',
  ratioVar: 'val/ratio_var',
} as const;
type UpdateStats = Record<keyof typeof statMetrics, number>;

/** The gradients of one model's variables, by parameter name (the rest untouched). */
function gradsOf(
  params: Map<string, tf.Variable>,
  grads: tf.NamedTensorMap,
): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, v] of params) {
    const g = grads[v.name];
    if (g) out.set(name, g);
  }
  return out;
}

/**
 * TRL-style PPO on four models: the policy (trained), the frozen reference (the SFT
 * policy), the frozen reward model, and the value model (trained, initialised from the
 * reward model). One `iteration` = rollout, scoring, advantages, then epochs of minibatch
 * updates of the clipped surrogate and the clipped value loss.
 */
export class PpoTrainer {
  private readonly policyOptimizer: AdamW;
  private readonly valueOptimizer: AdamW;
  /** The policy's mean per-token entropy in the first iteration (the collapse baseline). */
  private firstEntropy: number | null = null;

  constructor(
    readonly policy: LlamaModel,
    private readonly reference: LlamaModel,
    private readonly reward: ScalarHeadModel,
    readonly value: ScalarHeadModel,
    private readonly config: PpoConfig,
    private readonly special: { eos: number[]; pad: number },
  ) {
    const adam = { ...defaultAdamW, weightDecay: 0, maxGradNorm: config.maxGradNorm };
    this.policyOptimizer = new AdamW(policy.params, adam);
    this.valueOptimizer = new AdamW(value.params, adam);
  }

  /**
   * One iteration on `prompts` (chat-formatted token ids), at learning rate `lr` (a number for
   * both models, or one each).
   */
  async iteration(
    prompts: number[][],
    seed: number,
    lr: number | { policy: number; value: number },
    checkpoint?: () => Promise<void>,
    trainPolicy = true,
  ): Promise<PpoIteration> {
    const c = this.config;
    const rates = typeof lr === 'number' ? { policy: lr, value: lr } : lr;
    // 1. Rollout with the KV cache.
    const rolled = await generate(this.policy, prompts, {
      maxNewTokens: c.responseLength,
      temperature: c.temperature,
      topK: 0,
      topP: 1,
      seed,
      eosIds: this.special.eos,
      padId: this.special.pad,
      checkpoint,
    });
    const r = buildRollout(prompts, rolled.tokens, this.special.pad);
    const mask = r.responseMask;

    // 2. Log-probs of policy and reference, values, scores (missing-EOS penalty).
    const oldLogp = await logprobsOf(this.policy, r);
    const refLogp = await logprobsOf(this.reference, r);
    const oldValues = (await read(this.value.values(r.ids, r.keyMask))) as Rows;
    const rawScores = (await read(this.reward.scores(r.sequences, r.sequenceMask))) as number[];
    const scores = rawScores.map((s, b) => (rolled.finished[b] ? s : s - c.missingEosPenalty));

    // 3. Per-token rewards (KL penalty + score at the end), GAE, whitened advantages.
    const kl = klPerToken(oldLogp, refLogp, c.klEstimator);
    const { rewards: raw, nonScore } = tokenRewards(kl, scores, mask, c.klCoef);
    const rewards = c.whitenRewards ? whiten(raw, mask, false) : raw;
    const { advantages: rawAdvantages, returns } = gae(rewards, oldValues, mask, c.gamma, c.lam);
    const advantages = whiten(rawAdvantages, mask);

    // 4. Epochs of minibatch updates.
    const rng = new Rng(seed + 1);
    const stats: UpdateStats[] = [];
    const rows = r.ids.length;
    const size = Math.ceil(rows / c.miniBatches);
    for (let epoch = 0; epoch < c.ppoEpochs; epoch++) {
      const order = rng.shuffle(Array.from({ length: rows }, (_, i) => i));
      for (let start = 0; start < rows; start += size) {
        await checkpoint?.();
        const pick = <T>(x: T[]) => order.slice(start, start + size).map((i) => x[i]!);
        const step = await this.update(rates, trainPolicy, {
          ids: pick(r.ids),
          keyMask: pick(r.keyMask),
          targets: pick(r.targets),
          mask: pick(mask),
          oldLogp: pick(oldLogp),
          advantages: pick(advantages),
          oldValues: pick(oldValues),
          returns: pick(returns),
        });
        stats.push(step);
      }
    }

    // 5. Metrics, as TRL names them, and warnings.
    const klSum = mean(rowSum(kl, mask));
    const nonScoreSum = mean(rowSum(nonScore, mask));
    const metrics: Record<string, number> = {
      'objective/kl': klSum,
      'objective/entropy': mean(
        rowSum(
          oldLogp.map((row) => row.map((v) => -v)),
          mask,
        ),
      ),
      'objective/non_score_reward': nonScoreSum,
      'objective/rlhf_reward': mean(scores) + nonScoreSum,
      'objective/scores': mean(scores),
      ...Object.fromEntries(
        Object.entries(statMetrics).map(([k, metric]) => [
          metric,
          mean(stats.map((x) => x[k as keyof UpdateStats])),
        ]),
      ),
      'val/num_eos_tokens': rolled.finished.filter(Boolean).length,
    };
    const warnings = this.warnings(klSum, metrics['policy/entropy_avg']!, rolled.tokens);
    return { metrics, responses: rolled.tokens, scores, finished: rolled.finished, warnings };
  }

  /** What a student should look at after an iteration (TRL's warning signs). */
  private warnings(klSum: number, entropy: number, responses: number[][]): string[] {
    const warnings: string[] = [];
    if (klSum < 0)
      warnings.push(
        `The KL estimate is negative (${klSum.toFixed(3)}): k1 is noisy per sample; the true KL is never below 0.`,
      );
    this.firstEntropy ??= entropy;
    if (entropy < entropyCollapse * this.firstEntropy)
      warnings.push(
        `Entropy fell to ${entropy.toFixed(3)} nats per token, under ${Math.round(100 * entropyCollapse)}% of the first iteration's ${this.firstEntropy.toFixed(3)}: the policy has almost stopped exploring.`,
      );
    const texts = responses.map((t) => t.join(','));
    if (texts.length > 1 && texts.every((t) => t === texts[0]))
      warnings.push(
        'Every response in the batch is identical: the policy has collapsed to one answer.',
      );
    return warnings;
  }

  /** One minibatch step of both models (the value model only while the policy is frozen). */
  private async update(
    lr: { policy: number; value: number },
    trainPolicy: boolean,
    mb: {
      ids: Rows;
      keyMask: Rows;
      targets: Rows;
      mask: Rows;
      oldLogp: Rows;
      advantages: Rows;
      oldValues: Rows;
      returns: Rows;
    },
  ): Promise<UpdateStats> {
    const c = this.config;
    const mask = tf.tensor2d(mb.mask);
    const inputs = [
      tf.tensor2d(mb.oldLogp),
      tf.tensor2d(mb.advantages),
      tf.tensor2d(mb.oldValues),
      tf.tensor2d(mb.returns),
    ] as const;
    const [oldLogp, advantages, oldValues, returns] = inputs;
    let kept = {} as Record<keyof UpdateStats, tf.Scalar>;
    const policyVars = [...this.policy.params.values()];
    const valueVars = [...this.value.params.values()];
    const { value: loss, grads } = tf.variableGrads(() => {
      const { hidden } = this.policy.forward({
        ids: tf.tensor2d(mb.ids, undefined, 'int32'),
        keyMask: tf.tensor2d(mb.keyMask),
        positions: tf.tensor2d(positionsFromMask(mb.keyMask), undefined, 'int32'),
      });
      const logits = this.policy.logits(hidden); // [B, T, V]
      const logp = tokenLogprobs(logits, tf.tensor2d(mb.targets, undefined, 'int32'));
      const pol = clippedPolicyLoss(logp, oldLogp, advantages, mask, c.clipRange);
      const values = this.value.values(mb.ids, mb.keyMask);
      const val = clippedValueLoss(values, oldValues, returns, mask, c.clipRangeValue);
      // Statistics (no gradient needed): entropy of the new distribution, ratio mean and variance.
      const probs = tf.softmax(logits);
      const entropy = tf.neg(tf.sum(tf.mul(probs, tf.logSoftmax(logits)), -1));
      const ratioMean = maskedMean(pol.ratio, mask);
      const ratioVar = maskedMean(tf.square(tf.sub(pol.ratio, ratioMean)), mask);
      const named = {
        pg: pol.loss,
        vf: val.loss,
        approxkl: pol.approxKl,
        clipfrac: pol.clipFrac,
        vfClip: val.clipFrac,
        entropy: maskedMean(entropy, mask),
        ratio: ratioMean,
        ratioVar,
      };
      kept = Object.fromEntries(
        Object.entries(named).map(([k, t]) => [k, tf.keep(t as tf.Scalar)]),
      ) as typeof kept;
      return tf.add(pol.loss, tf.mul(c.vfCoef, val.loss)) as tf.Scalar;
    }, [...policyVars, ...valueVars]);
    const policyGrads = gradsOf(this.policy.params, grads);
    const valueGrads = gradsOf(this.value.params, grads);
    const norms = [this.valueOptimizer.apply(valueGrads, lr.value)];
    if (trainPolicy) norms.push(this.policyOptimizer.apply(policyGrads, lr.policy));
    else tf.dispose([...policyGrads.values()]);
    const names = Object.keys(kept) as (keyof UpdateStats)[];
    const read = await Promise.all(names.map((k) => kept[k].data()));
    tf.dispose([loss, ...Object.values(kept), ...norms, mask, ...inputs]);
    return Object.fromEntries(names.map((k, i) => [k, read[i]![0]!])) as UpdateStats;
  }

  dispose(): void {
    this.policyOptimizer.dispose();
    this.valueOptimizer.dispose();
  }
}
