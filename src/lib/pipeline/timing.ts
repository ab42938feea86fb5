import type { EmitEvent, StageName } from './events.ts';

/**
 * Runs steps of a pipeline between `stage-start` and `stage-end` events, recording each
 * step's wall seconds under its label in `seconds`.
 */
export function stageTimer(emit: EmitEvent, seconds: Record<string, number>) {
  return async <T>(stage: StageName, label: string, work: () => Promise<T>): Promise<T> => {
    emit({ type: 'stage-start', stage, label });
    const start = performance.now();
    const out = await work();
    seconds[label] = (performance.now() - start) / 1000;
    emit({ type: 'stage-end', stage, label, seconds: seconds[label] });
    return out;
  };
}
