import * as tf from '@tensorflow/tfjs-core';
import { AdamW, defaultAdamW } from './adamw.ts';
import type { GenerateOptions } from '../model/generation/generate.ts';
import { batchInputs } from '../model/architecture/layers.ts';
import type { LlamaModel } from '../model/architecture/llama.ts';
import type { ScalarHeadModel } from '../model/adapters/scalar-head.ts';
import {
  groupAdvantages,
  leaveOneOutAdvantages,
  normaliseAdvantages,
  sequenceKl,
} from '../ops/group-advantages.ts';
import { grpoLoss, reinforceLoss } from '../ops/group-losses.ts';
import type { GroupMethod, GrpoConfig } from './online-config.ts';
import { accumulatedGrads, rowChunks } from './policy-grads.ts';
import { logprobsOf, mean, read, sampleRollout, tempered, type Rollout } from './rollout.ts';

/**
 * GRPO and RLOO: online RL without a value model. Each iteration samples a group of answers
 * per prompt from the policy, scores them with the frozen reward model, turns the scores into
 * sequence-level advantages within each prompt's group, and updates the policy; the frozen
 * SL-CAI policy is the reference of the KL term (per token in GRPO's loss, per answer in
 * RLOO's reward).
 */

/** Rows per forward pass of an update: the batch's gradients are summed over passes. */
const rowsPerPass = 16;

export interface GroupIteration {
  /** TRL's metric names. */
  metrics: Record<string, number>;
  /** The sampled answers (new tokens), their scores, and whether each ended. */
  responses: number[][];
  scores: number[];
  finished: boolean[];
}

export class GroupTrainer {
  private readonly optimizer: AdamW;

  constructor(
    readonly policy: LlamaModel,
    private readonly reference: LlamaModel,
    private readonly reward: ScalarHeadModel,
    private readonly method: GroupMethod,
    private readonly special: { eos: number[]; pad: number },
  ) {
    const adam = { ...defaultAdamW, weightDecay: 0, maxGradNorm: method.config.maxGradNorm };
    this.optimizer = new AdamW(policy.trainable(), adam);
  }

  /**
   * One iteration on `prompts` (chat-formatted token ids, each sampled `numGenerations` times)
   * at learning rate `lr`; `onToken` sees each token of the answers as it is drawn.
   */
  async iteration(
    prompts: number[][],
    seed: number,
    lr: number,
    checkpoint?: () => Promise<void>,
    onToken?: GenerateOptions['onToken'],
  ): Promise<GroupIteration> {
    const c = this.method.config;
    const g = c.numGenerations;
    const rows = prompts.flatMap((p) => new Array<number[]>(g).fill(p)); // a prompt's group is consecutive
    const { r, ...rolled } = await sampleRollout(
      this.policy,
      rows,
      { ...this.special, responseLength: c.responseLength, temperature: c.temperature },
      seed,
      checkpoint,
      onToken,
    );
    const mask = r.responseMask;
    const oldLogp = await logprobsOf(this.policy, r, c.temperature);
    const refLogp = c.beta > 0 ? await logprobsOf(this.reference, r, c.temperature) : null;
    const rawScores = (await read(this.reward.scores(r.sequences, r.sequenceMask))) as number[];
    const scores = rawScores.map((s, b) => (rolled.finished[b] ? s : s - c.missingEosPenalty));

    let advantages: number[];
    const metrics: Record<string, number> = {};
    if (this.method.kind === 'grpo') {
      advantages = groupAdvantages(scores, g, this.method.config.scaleRewards);
      const stats = [];
      for (let k = 0; k < this.method.config.numIterations; k++) {
        await checkpoint?.();
        stats.push(await this.grpoUpdate(r, oldLogp, refLogp, advantages, lr));
      }
      metrics['loss'] = mean(stats.map((s) => s.loss));
      metrics['clip_ratio/region_mean'] = mean(stats.map((s) => s.clipFrac));
      metrics['kl'] = mean(stats.map((s) => s.kl));
    } else {
      // The sequence KL to the reference, per answer (RLOO folds it into the reward).
      const kl = refLogp ? sequenceKl(oldLogp, refLogp, mask) : scores.map(() => 0);
      const rewards = scores.map((s, b) => s - c.beta * kl[b]!);
      const loo = leaveOneOutAdvantages(rewards, g);
      advantages = this.method.config.normalizeAdvantages ? normaliseAdvantages(loo) : loo;
      await checkpoint?.();
      metrics['loss'] = await this.rlooUpdate(r, advantages, lr);
      metrics['kl'] = mean(kl);
      metrics['objective/rlhf_reward'] = mean(rewards);
    }
    if (!Number.isFinite(metrics['loss']!))
      throw new Error(
        `The ${this.method.kind.toUpperCase()} loss became ${metrics['loss']}: lower the learning rate or the temperature.`,
      );
    const std = Math.sqrt(mean(scores.map((s) => (s - mean(scores)) ** 2)));
    Object.assign(metrics, {
      reward: mean(scores),
      reward_std: std,
      'objective/scores': mean(scores),
      'completions/mean_length': mean(mask.map((m) => m.reduce((a, b) => a + b, 0))),
      'completions/clipped_ratio': mean(rolled.finished.map((f) => (f ? 0 : 1))),
      'train/lr': lr,
    });
    return { metrics, responses: rolled.tokens, scores, finished: rolled.finished };
  }

  /** The rows [from, to) of a rollout's inputs, targets and mask as tensors (in a tape). */
  private chunkLogp(r: Rollout, from: number, to: number) {
    const c = this.method.config;
    const { hidden } = this.policy.forward(
      batchInputs(r.ids.slice(from, to), r.keyMask.slice(from, to)),
    );
    const targets = tf.tensor2d(r.targets.slice(from, to), undefined, 'int32');
    const logp = this.policy.tokenLogprobs(tempered(hidden, c.temperature), targets).logprobs;
    return { logp, mask: tf.tensor2d(r.responseMask.slice(from, to)) }; // [b, T] each
  }

  /** One GRPO step over the whole batch: the token-level loss summed over passes. */
  private async grpoUpdate(
    r: Rollout,
    oldLogp: number[][],
    refLogp: number[][] | null,
    advantages: number[],
    lr: number,
  ) {
    const { epsilon, beta } = this.method.config as GrpoConfig;
    const tokens = r.responseMask.flat().reduce((a, b) => a + b, 0);
    const chunks = rowChunks(r.ids.length, rowsPerPass);
    const kept: tf.Scalar[] = [];
    const { grads, loss } = accumulatedGrads(this.policy.trainable(), chunks.length, (i) => {
      const [from, to] = chunks[i]!;
      const { logp, mask } = this.chunkLogp(r, from, to);
      const out = grpoLoss(
        logp,
        tf.tensor2d(oldLogp.slice(from, to)),
        refLogp ? tf.tensor2d(refLogp.slice(from, to)) : null,
        tf.tensor1d(advantages.slice(from, to)),
        mask,
        epsilon,
        beta,
      );
      // Each pass's token mean, weighted by its share of the batch's tokens.
      const share = tf.div(tf.sum(mask), Math.max(1, tokens));
      kept.push(tf.keep(tf.mul(out.clipFrac, share)), tf.keep(tf.mul(out.kl, share)));
      return tf.mul(out.loss, share) as tf.Scalar;
    });
    tf.dispose(this.optimizer.apply(grads, lr));
    const values = await Promise.all([loss, ...kept].map(async (t) => (await t.data())[0]!));
    tf.dispose([loss, ...kept]);
    const sum = (from: number) =>
      values
        .slice(1)
        .filter((_, k) => k % 2 === from)
        .reduce((a, b) => a + b, 0);
    return { loss: values[0]!, clipFrac: sum(0), kl: sum(1) };
  }

  /** One REINFORCE step over the whole batch (RLOO: one update per batch). */
  private async rlooUpdate(r: Rollout, advantages: number[], lr: number): Promise<number> {
    const rows = r.ids.length;
    const chunks = rowChunks(rows, rowsPerPass);
    const { grads, loss } = accumulatedGrads(this.policy.trainable(), chunks.length, (i) => {
      const [from, to] = chunks[i]!;
      const { logp, mask } = this.chunkLogp(r, from, to);
      const a = tf.tensor1d(advantages.slice(from, to));
      // The pass's mean over its answers, weighted by its share of the batch's answers.
      return tf.mul(reinforceLoss(logp, a, mask), (to - from) / rows) as tf.Scalar;
    });
    tf.dispose(this.optimizer.apply(grads, lr));
    const value = (await loss.data())[0]!;
    loss.dispose();
    return value;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
