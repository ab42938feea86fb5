import * as tf from '@tensorflow/tfjs-core';
import { AdamW, defaultAdamW } from './adamw.ts';
import type { GenerateOptions } from '../model/generation/generate.ts';
import { type LlamaModel } from '../model/architecture/llama.ts';
import { batchInputs } from '../model/architecture/layers.ts';
import type { ScalarHeadModel } from '../model/adapters/scalar-head.ts';
import { gae, klPerToken, tokenRewards, whiten, type Rows } from '../ops/advantages.ts';
import { maskedMean } from '../ops/logprobs.ts';
import { clippedPolicyLoss, clippedValueLoss } from '../ops/ppo-losses.ts';
import { Rng } from '../util/random.ts';
import type { PpoConfig } from './ppo-config.ts';
import { iterationMetrics, iterationWarnings, type UpdateStats } from './ppo-metrics.ts';
import { logprobsOf, read, sampleRollout, tempered } from './rollout.ts';

/** The rows one PPO update step trains on, [B, T] each (a minibatch of the rollout). */
interface Minibatch {
  ids: Rows;
  keyMask: Rows;
  targets: Rows;
  mask: Rows;
  oldLogp: Rows;
  advantages: Rows;
  oldValues: Rows;
  returns: Rows;
}

/** The minibatch of the rows at `rows`. */
function pickRows(batch: Minibatch, rows: number[]): Minibatch {
  const pick = (x: Rows) => rows.map((i) => x[i]!);
  const { ids, keyMask, targets, mask, oldLogp, advantages, oldValues, returns } = batch;
  return {
    ids: pick(ids),
    keyMask: pick(keyMask),
    targets: pick(targets),
    mask: pick(mask),
    oldLogp: pick(oldLogp),
    advantages: pick(advantages),
    oldValues: pick(oldValues),
    returns: pick(returns),
  };
}

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
    this.policyOptimizer = new AdamW(policy.trainable(), adam);
    this.valueOptimizer = new AdamW(value.params, adam);
  }

  /**
   * One iteration on `prompts` (chat-formatted token ids), at learning rate `lr` (a number for
   * both models, or one each); `onToken` sees each token of the rollout as it is drawn.
   */
  async iteration(
    prompts: number[][],
    seed: number,
    lr: number | { policy: number; value: number },
    checkpoint?: () => Promise<void>,
    trainPolicy = true,
    onToken?: GenerateOptions['onToken'],
  ): Promise<PpoIteration> {
    const c = this.config;
    const rates = typeof lr === 'number' ? { policy: lr, value: lr } : lr;
    // 1. Rollout with the KV cache.
    const { r, ...rolled } = await sampleRollout(
      this.policy,
      prompts,
      { ...this.special, responseLength: c.responseLength, temperature: c.temperature },
      seed,
      checkpoint,
      onToken,
    );
    const mask = r.responseMask;

    // 2. Log-probs of policy and reference, values, scores (missing-EOS penalty).
    const oldLogp = await logprobsOf(this.policy, r, c.temperature);
    const refLogp = await logprobsOf(this.reference, r, c.temperature);
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
    const batch: Minibatch = {
      ids: r.ids,
      keyMask: r.keyMask,
      targets: r.targets,
      mask,
      oldLogp,
      advantages,
      oldValues,
      returns,
    };
    const stats = await this.optimise(batch, new Rng(seed + 1), rates, trainPolicy, checkpoint);

    // 5. Metrics, as TRL names them, and warnings.
    const metrics = iterationMetrics({ kl, nonScore, oldLogp, mask, scores, stats, rolled });
    const entropy = metrics['policy/entropy_avg']!;
    this.firstEntropy ??= entropy;
    const warnings = iterationWarnings(
      metrics['objective/kl']!,
      entropy,
      this.firstEntropy,
      rolled.tokens,
    );
    return { metrics, responses: rolled.tokens, scores, finished: rolled.finished, warnings };
  }

  /** `ppoEpochs` passes over the batch in shuffled minibatches; the statistics of each step. */
  private async optimise(
    batch: Minibatch,
    rng: Rng,
    rates: { policy: number; value: number },
    trainPolicy: boolean,
    checkpoint?: () => Promise<void>,
  ): Promise<UpdateStats[]> {
    const c = this.config;
    const stats: UpdateStats[] = [];
    const rows = batch.ids.length;
    const size = Math.ceil(rows / c.miniBatches);
    for (let epoch = 0; epoch < c.ppoEpochs; epoch++) {
      const order = rng.shuffle(Array.from({ length: rows }, (_, i) => i));
      for (let start = 0; start < rows; start += size) {
        await checkpoint?.();
        const mb = pickRows(batch, order.slice(start, start + size));
        stats.push(await this.update(rates, trainPolicy, mb));
      }
    }
    return stats;
  }

  /** One minibatch step of both models (the value model only while the policy is frozen). */
  private async update(
    lr: { policy: number; value: number },
    trainPolicy: boolean,
    mb: Minibatch,
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
    let entropyRows: tf.Tensor2D | null = null;
    const policyVars = [...this.policy.trainable().values()];
    const valueVars = [...this.value.params.values()];
    const { value: loss, grads } = tf.variableGrads(() => {
      const { hidden } = this.policy.forward(batchInputs(mb.ids, mb.keyMask));
      const targets = tf.tensor2d(mb.targets, undefined, 'int32');
      const { logprobs: logp, entropy } = this.policy.tokenLogprobs(
        tempered(hidden, c.temperature),
        targets,
        true,
      ); // [B, T], at the rollout's temperature
      // The entropy of the new distribution is kept outside the tape's scopes: freed below.
      entropyRows = entropy!;
      const pol = clippedPolicyLoss(logp, oldLogp, advantages, mask, c.clipRange);
      const values = this.value.values(mb.ids, mb.keyMask);
      const val = clippedValueLoss(values, oldValues, returns, mask, c.clipRangeValue);
      // Statistics (no gradient needed): mean entropy, ratio mean and variance.
      const ratioMean = maskedMean(pol.ratio, mask);
      const ratioVar = maskedMean(tf.square(tf.sub(pol.ratio, ratioMean)), mask);
      const named = {
        pg: pol.loss,
        vf: val.loss,
        approxkl: pol.approxKl,
        clipfrac: pol.clipFrac,
        vfClip: val.clipFrac,
        entropy: maskedMean(entropyRows!, mask),
        ratio: ratioMean,
        ratioVar,
      };
      kept = Object.fromEntries(
        Object.entries(named).map(([k, t]) => [k, tf.keep(t as tf.Scalar)]),
      ) as typeof kept;
      return tf.add(pol.loss, tf.mul(c.vfCoef, val.loss)) as tf.Scalar;
    }, [...policyVars, ...valueVars]);
    (entropyRows as tf.Tensor2D | null)?.dispose();
    // One readback of the loss and the statistics, before the update: a non-finite loss is
    // refused before its gradients reach either model.
    const names = Object.keys(kept) as (keyof UpdateStats)[];
    const [lossValue, ...read] = (
      await Promise.all([loss, ...names.map((k) => kept[k])].map((t) => t.data()))
    ).map((d) => d[0]!);
    if (!Number.isFinite(lossValue)) {
      tf.dispose([loss, ...Object.values(kept), ...Object.values(grads), mask, ...inputs]);
      throw new Error(
        `The PPO loss became ${lossValue}: lower the learning rate or the temperature. The models keep their last finite weights.`,
      );
    }
    const policyGrads = gradsOf(this.policy.trainable(), grads);
    const valueGrads = gradsOf(this.value.params, grads);
    const norms = [this.valueOptimizer.apply(valueGrads, lr.value)];
    if (trainPolicy) norms.push(this.policyOptimizer.apply(policyGrads, lr.policy));
    else tf.dispose([...policyGrads.values()]);
    tf.dispose([loss, ...Object.values(kept), ...norms, mask, ...inputs]);
    return Object.fromEntries(names.map((k, i) => [k, read[i]!])) as UpdateStats;
  }

  dispose(): void {
    this.policyOptimizer.dispose();
    this.valueOptimizer.dispose();
  }
}
