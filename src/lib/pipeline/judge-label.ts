import type { EvalResult } from '../domain/records.ts';

/** Who made an evaluation's figures, in words ("judged by …"). */
export function judgeLabel(r: Pick<EvalResult, 'judge' | 'aiJudge'>): string {
  return r.judge === 'feedback'
    ? `the AI judge (${r.aiJudge?.model ?? 'the feedback model'})`
    : 'the tiny world’s exact judge';
}
