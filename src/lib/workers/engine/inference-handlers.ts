/**
 * The engine's inference requests: generation through a policy's chat template, option
 * log-probs (the preference labels and the AI judge on the engine's models), reward scores,
 * and raw logits (the model cross-checks).
 */
import type { BackendName } from '../../domain/backend.ts';
import { chatGenerate } from '../../model/generation/chat-generate.ts';
import { forwardLogits, scoreOptions } from '../../model/generation/policy-tasks.ts';
import { rewardScores } from '../../training/rl-tasks.ts';
import { cancellationPoint } from '../serve.ts';
import type { EngineContext, HandlerGroup } from './engine-context.ts';

export function inferenceHandlers({
  backends,
  models,
}: EngineContext): HandlerGroup<'generate' | 'score' | 'rewardScore' | 'forwardLogits'> {
  return {
    generate: (request, ctx) =>
      backends.run(async () => {
        const result = await chatGenerate(
          models.need(request.policy),
          request.prompts,
          request.settings,
          {
            onText: (index, text) => ctx.emit({ status: 'token', index, text }),
            checkpoint: () => cancellationPoint(ctx.signal),
          },
        );
        return { ...result, backend: backends.current.backend as BackendName };
      }),
    score: (request) =>
      backends.run(() =>
        scoreOptions(models.need(request.policy), request.prompt, request.options),
      ),
    rewardScore: async (request) => ({
      scores: await backends.run(() =>
        rewardScores(models.need('sl'), models.needReward(), request.items),
      ),
    }),
    forwardLogits: (request) => backends.run(() => forwardLogits(models.base(), request.text)),
  };
}
