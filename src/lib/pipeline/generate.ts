import type { GenerateSettings, PolicyName } from '../domain/policy.ts';
import type { TextSampling } from '../experiment/stage-configs.ts';
import type { EmitEvent } from './events.ts';
import type { StageName } from './steps.ts';
import { during, quoted, throwIfAborted } from '../domain/errors.ts';
import { type PolicyPort } from './ports.ts';

/** Prompts per generation request: one batched KV-cache pass, then a progress event. */
export const generationBatch = 16;

export function samplingSettings(config: TextSampling, seed: number): GenerateSettings {
  return {
    maxNewTokens: config.maxNewTokens,
    temperature: config.temperature,
    topK: 0,
    topP: 1,
    seed,
    noCache: false,
  };
}

/**
 * Answers `prompts` with a policy in batches, streaming tokens under keys `${keyPrefix}${i}`;
 * the seed of batch b is seed + b, so a run is reproducible batch by batch.
 */
export async function answerAll(
  policy: PolicyPort,
  name: PolicyName,
  prompts: string[],
  config: TextSampling,
  seed: number,
  stage: StageName,
  keyPrefix: string,
  emit: EmitEvent,
  signal: AbortSignal,
): Promise<string[]> {
  const out: string[] = [];
  for (let start = 0; start < prompts.length; start += generationBatch) {
    throwIfAborted(signal);
    const batch = prompts.slice(start, start + generationBatch);
    const texts = await during(
      `The ${stage} stage, the ${name} policy answering prompts ${start + 1} to ${start + batch.length} of ${prompts.length} (the first ${quoted(batch[0]!)})`,
      policy.generate(
        name,
        batch,
        samplingSettings(config, seed + start / generationBatch),
        (i, delta) => emit({ type: 'token', stage, key: `${keyPrefix}${start + i}`, delta }),
        signal,
      ),
    );
    out.push(...texts);
    emit({
      type: 'progress',
      stage,
      done: out.length,
      total: prompts.length,
      message: `${out.length} of ${prompts.length} answers`,
    });
  }
  return out;
}
