/**
 * The engine's training requests: SL-CAI's SFT, the reward model and RL-CAI's methods (PPO,
 * DPO, GRPO, RLOO), each one trainer run
 * through `trainJob` (events, cancellation, device-loss retry, seconds) that leaves its
 * model in the engine's slots and returns a checkpoint of it.
 */
import { runSft, sftSequences } from '../../training/sft.ts';
import { runDpo, runGroupRl } from '../../training/method-tasks.ts';
import { runPpo, trainReward } from '../../training/rl-tasks.ts';
import type { TrainHooks } from '../../domain/train-events.ts';
import type { TrainedPolicy } from '../../model/adapters/adapter-policy.ts';
import type { LlamaModel } from '../../model/architecture/llama.ts';
import { trainJob, type EngineContext, type HandlerGroup } from './engine-context.ts';

export function trainingHandlers(
  engine: EngineContext,
): HandlerGroup<'sft' | 'reward' | 'ppo' | 'dpo' | 'groupRl'> {
  const { backends, models } = engine;
  return {
    sft: async (request, ctx) => {
      const base = models.base();
      models.set('sl', null);
      models.set('rl', null);
      const session = await backends.run(() => models.freshSl(request.seed));
      // The weights are read back inside the job: a device lost then retries the training.
      const job = await trainJob(engine, ctx, (hooks) =>
        models.training(session, async () => {
          const trained = await runSft(
            session.current(),
            sftSequences(session, request.train),
            sftSequences(session, request.heldOut),
            request.config,
            request.seed,
            hooks,
          );
          await session.syncFromModel();
          return trained;
        }),
      );
      models.set('sl', session);
      return {
        ...job.result,
        seconds: job.seconds,
        backend: job.backend,
        checkpoint: session.safetensors({ stage: 'sl-cai', base: base.id }),
      };
    },
    reward: async (request, ctx) => {
      const sl = models.need('sl');
      // The checkpoint is read back inside the job: a device lost then retries the training.
      const job = await trainJob(engine, ctx, async (hooks) => {
        const trained = await trainReward(
          sl,
          models.newReward(request.seed),
          request.train,
          request.heldOut,
          request.config,
          request.seed,
          hooks,
        );
        return {
          ...trained,
          checkpoint: await trained.model.safetensors({ stage: 'reward', base: sl.id }),
        };
      });
      const { model, result, checkpoint } = job.result;
      models.setReward(checkpoint, model);
      return { ...result, seconds: job.seconds, checkpoint };
    },
    ppo: (request, ctx) => {
      const reward = models.needReward();
      return rlJob(engine, ctx, (rl, reference, hooks) =>
        runPpo(reference, rl, reward, request.prompts, request.config, request.seed, hooks),
      );
    },
    dpo: (request, ctx) =>
      rlJob(engine, ctx, async (rl, reference, hooks) => {
        const { steps, eval: evals } = await runDpo(
          reference,
          rl,
          request.train,
          request.heldOut,
          request.config,
          request.seed,
          hooks,
        );
        return { steps, eval: evals.map((e) => ({ ...e })) };
      }),
    groupRl: (request, ctx) => {
      const reward = models.needReward();
      return rlJob(engine, ctx, (rl, reference, hooks) =>
        runGroupRl(reference, rl, reward, request.prompts, request.method, request.seed, hooks),
      );
    },
  };
}

/**
 * Trains the `rl` policy, a fresh copy of the SL-CAI policy, by one RL-CAI method (`train`,
 * with the frozen SL-CAI policy as its reference), and returns the method's result with the
 * seconds and a checkpoint of the trained policy.
 */
async function rlJob<R extends object>(
  engine: EngineContext,
  ctx: Parameters<typeof trainJob>[1],
  train: (rl: TrainedPolicy, reference: LlamaModel, hooks: TrainHooks) => Promise<R>,
): Promise<R & { seconds: number; peakBytes: number; checkpoint: Uint8Array }> {
  const { models } = engine;
  const sl = models.need('sl');
  models.set('rl', null);
  const rl = sl.copy('rl');
  const job = await trainJob(engine, ctx, async (hooks) => {
    const trained = await train(rl, models.reference(), hooks);
    await rl.syncFromModel();
    return trained;
  });
  models.set('rl', rl);
  return {
    ...job.result,
    seconds: job.seconds,
    peakBytes: job.peakBytes,
    checkpoint: rl.safetensors({ stage: 'rl-cai', base: sl.id }),
  };
}
