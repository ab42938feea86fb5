import type { PolicyPort } from '../../src/lib/pipeline/ports.ts';

const unused = () => Promise.reject(new Error('unused'));

/** A policy port for stage tests: the calls given, and any other one fails ("unused"). */
export function policyPort(calls: Partial<PolicyPort>): PolicyPort {
  return {
    generate: unused,
    sft: unused,
    reward: unused,
    rewardScores: async () => [],
    ppo: unused,
    dpo: unused,
    groupRl: unused,
    ...calls,
  };
}
