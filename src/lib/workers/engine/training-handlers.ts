/**
 * The engine's training requests: SL-CAI's SFT, the reward model and PPO, each one trainer run
 * through `trainJob` (events, cancellation, device-loss retry, seconds) that leaves its
 * model in the engine's slots and returns a checkpoint of it.
 */
import { runSft } from '../../model/sft.ts';
import { sftSequences } from '../../model/policy-tasks.ts';
import { runPpo, trainReward } from '../../rl/rl-tasks.ts';
import { trainJob, type EngineContext, type HandlerGroup } from './engine-context.ts';

export function trainingHandlers(engine: EngineContext): HandlerGroup<'sft' | 'reward' | 'ppo'> {
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
    ppo: async (request, ctx) => {
      const sl = models.need('sl');
      models.needReward();
      models.set('rl', null);
      const rl = sl.copy('rl');
      const job = await trainJob(engine, ctx, async (hooks) => {
        const trained = await runPpo(
          models.reference(),
          rl,
          models.needReward(),
          request.prompts,
          request.config,
          request.seed,
          hooks,
        );
        await rl.syncFromModel();
        return trained;
      });
      models.set('rl', rl);
      return {
        ...job.result,
        seconds: job.seconds,
        checkpoint: rl.safetensors({ stage: 'rl-cai', base: sl.id }),
      };
    },
  };
}
