import type { EmitEvent } from './events.ts';
import type { StepInfo, StepId } from './steps.ts';

/**
 * Runs a step between `stage-start` and `stage-end` events, recording its wall seconds under
 * its id in `seconds`.
 */
export function stageTimer(emit: EmitEvent, seconds: Record<string, number>) {
  return async <T>(step: StepInfo<StepId>, work: () => Promise<T>): Promise<T> => {
    const { id, stage } = step;
    emit({ type: 'stage-start', stage, step: id });
    const start = performance.now();
    const out = await work();
    seconds[id] = (performance.now() - start) / 1000;
    emit({ type: 'stage-end', stage, step: id, seconds: seconds[id] });
    return out;
  };
}
