import * as tf from '@tensorflow/tfjs-core';

/**
 * DPO's loss (Rafailov et al. 2023) on sequence log-probs of the completions, [B] each:
 * the implicit rewards are β·(log π − log π_ref) of the chosen and the rejected answer,
 * h = reward_chosen − reward_rejected, and with p the probability that "chosen" is the better
 * one (the AI label; 1 for a hard label) the loss is −p·log σ(h) − (1 − p)·log σ(−h), averaged:
 * the conservative (label-smoothed) form with ε = 1 − p. Also the implicit rewards, for TRL's
 * `rewards/*` metrics.
 */
export function dpoLoss(
  policyChosen: tf.Tensor1D,
  policyRejected: tf.Tensor1D,
  refChosen: tf.Tensor1D,
  refRejected: tf.Tensor1D,
  labels: tf.Tensor1D,
  beta: number,
): { loss: tf.Scalar; chosenRewards: tf.Tensor1D; rejectedRewards: tf.Tensor1D } {
  const chosenRewards = tf.mul(beta, tf.sub(policyChosen, refChosen)) as tf.Tensor1D; // [B]
  const rejectedRewards = tf.mul(beta, tf.sub(policyRejected, refRejected)) as tf.Tensor1D;
  const h = tf.sub(chosenRewards, rejectedRewards);
  // −log σ(x) = softplus(−x) (see bradleyTerryLoss for why not tf.logSigmoid).
  const nll = tf.add(
    tf.mul(labels, tf.softplus(tf.neg(h))),
    tf.mul(tf.sub(1, labels), tf.softplus(h)),
  );
  return { loss: tf.mean(nll) as tf.Scalar, chosenRewards, rejectedRewards };
}
