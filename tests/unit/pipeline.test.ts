import { Cancelled } from '../../src/lib/domain/errors.ts';
import { describe, expect, test } from 'vitest';
import { defaultStageConfigs } from '../../src/lib/experiment/stage-configs.ts';
import { type Chain } from '../../src/lib/domain/records.ts';
import { runCritiqueRevise } from '../../src/lib/pipeline/critique-revise.ts';
import { scoreLabels } from '../../src/lib/pipeline/evaluate.ts';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import { reasoningPrefix, runLabel } from '../../src/lib/pipeline/label.ts';
import type { FeedbackPort, Ports } from '../../src/lib/pipeline/ports.ts';
import { policyPort } from './fake-ports.ts';
import { samplePrinciples } from '../../src/lib/pipeline/principles.ts';
import { buildSftSet, splitHeldOut } from '../../src/lib/pipeline/sft-data.ts';
import { describeErrors, validateExperiment } from '../../src/lib/experiment/experiment-check.ts';
import { defaultExperiment } from '../../src/lib/experiment/experiment.ts';
import { critiqueForRevision, critiqueText } from '../../src/lib/world/feedback-texts.ts';
import { principleInfo, seedConstitution } from '../../src/lib/world/principles.ts';
import { findPrompt } from '../../src/lib/world/prompts.ts';
import { defaultTemplates, renderTemplate } from '../../src/lib/world/templates.ts';
import { seedPrompts } from '../../src/lib/world/topics.ts';

describe('experiment', () => {
  test('the default experiment is valid and holds the seed constitution and prompts', () => {
    const e = defaultExperiment();
    expect(validateExperiment(e)).toEqual({ ok: true, experiment: e });
    expect(e.constitution).toEqual(seedConstitution);
    expect(e.prompts.redTeam.slice(0, 3)).toEqual(seedPrompts);
    expect(
      e.prompts.heldOut.redTeam.length + e.prompts.heldOut.ordinary.length,
    ).toBeGreaterThanOrEqual(200);
    // Training and held-out prompts never overlap.
    const heldOut = new Set([...e.prompts.heldOut.redTeam, ...e.prompts.heldOut.ordinary]);
    expect([...e.prompts.redTeam, ...e.prompts.ordinary].some((p) => heldOut.has(p))).toBe(false);
  });

  test('a label margin no pair could pass is refused before the run, not at labelling (issue 35, item 12)', () => {
    const e = defaultExperiment();
    const at = (minMargin: number) =>
      validateExperiment({
        ...e,
        stages: { ...e.stages, label: { ...e.stages.label, minMargin } },
      });
    expect(at(0.45).ok).toBe(true);
    const refused = at(0.5);
    expect(refused.ok).toBe(false);
    expect(refused).toMatchObject({
      errors: [
        {
          path: 'stages.label.minMargin',
          message: expect.stringMatching(/must be between 0 and 0\.45/),
        },
      ],
    });
  });

  test('invalid data gets one message per field, naming it and saying why', () => {
    const e = defaultExperiment() as unknown as Record<string, unknown>;
    const bad = structuredClone(e) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    bad.constitution = [];
    bad.seed = 1.5;
    bad.templates.revision = 'Rewrite {response}.';
    bad.stages.critique.rounds = 9;
    bad.stages.critique.mode = 'loud';
    bad.models.feedback = 'https://evil.example/model';
    bad.stages.ppo.klCoeff = 0.1; // a misspelt setting is not silently ignored
    delete bad.stages.sft.epochs;
    bad.stages.label.cotBand = [0.6, 0.4];
    bad.extra = true;
    const result = validateExperiment(bad);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      { path: 'extra', message: 'is not a field this app knows' },
      { path: 'seed', message: 'must be a whole number' },
      { path: 'constitution', message: 'needs at least 1 item' },
      { path: 'templates.revision', message: 'must contain the variable {constitution}' },
      { path: 'templates.revision', message: 'must contain the variable {question}' },
      { path: 'templates.revision', message: 'must contain the variable {critique}' },
      {
        path: 'models.feedback',
        message:
          'must be a model folder name or a Hugging Face id like "owner/name" (at a revision: "owner/name@v1")',
      },
      { path: 'stages.critique.mode', message: 'must be "plain", "strict" or "cot"' },
      { path: 'stages.critique.rounds', message: 'must be between 1 and 4' },
      { path: 'stages.sft.epochs', message: 'is missing' },
      {
        path: 'stages.label.cotBand',
        message: 'must be two numbers [low, high], low between 0 and 0.5, high between 0.5 and 1',
      },
      { path: 'stages.ppo.klCoeff', message: 'is not a setting this app knows' },
    ]);
    expect(describeErrors(result.errors.slice(1, 3))).toBe(
      'seed must be a whole number; constitution needs at least 1 item',
    );
  });

  test('a template may use only the variables it is given; inherited names never substitute', () => {
    const e = defaultExperiment();
    e.templates.critique += ' {foo} {constructor}';
    const result = validateExperiment(e);
    const given = '(it has {constitution}, {question}, {response}, {principle})';
    expect(result).toEqual({
      ok: false,
      errors: [
        {
          path: 'templates.critique',
          message: `uses {foo}, which this template is not given ${given}`,
        },
        {
          path: 'templates.critique',
          message: `uses {constructor}, which this template is not given ${given}`,
        },
      ],
    });
    expect(() => renderTemplate('A {constructor} B', {})).toThrow(
      'The template uses {constructor}, which has no value here.',
    );
    // Names with capitals are not variables: they stay as text.
    expect(renderTemplate('{toString}', {})).toBe('{toString}');
    expect(renderTemplate('Q: {question}', { question: 'why?' })).toBe('Q: why?');
    // Every default template uses exactly the variables it is given.
    expect(validateExperiment(defaultExperiment()).ok).toBe(true);
  });

  test('a prompt twice in one set is refused, naming both places', () => {
    const e = defaultExperiment();
    const first = e.prompts.heldOut.redTeam[0]!;
    e.prompts.heldOut.redTeam.push(first);
    const at = e.prompts.heldOut.redTeam.length - 1;
    expect(validateExperiment(e)).toEqual({
      ok: false,
      errors: [
        {
          path: `prompts.heldOut.redTeam[${at}]`,
          message: `repeats prompt 1 ("${first.slice(0, 60)}")`,
        },
      ],
    });
  });

  test('a newer version is refused as such; non-objects are refused', () => {
    const newer = { ...defaultExperiment(), version: 4 };
    expect(validateExperiment(newer)).toEqual({
      ok: false,
      errors: [
        { path: 'version', message: 'is 4, made by a newer version of the app (this one reads 3)' },
      ],
    });
    expect(validateExperiment('hello')).toMatchObject({
      ok: false,
      errors: [{ path: 'experiment', message: 'must be an object' }],
    });
  });

  test("a Hub policy must be judged by the AI judge: the world's judge reads only the tiny model", () => {
    const e = defaultExperiment();
    e.models.policy = 'HuggingFaceTB/SmolLM2-135M-Instruct';
    expect(validateExperiment(e)).toEqual({
      ok: false,
      errors: [
        {
          path: 'stages.evaluate.judge',
          message:
            'is "world", but the tiny world’s judge reads only the tiny model’s answers and the policy is "HuggingFaceTB/SmolLM2-135M-Instruct": use "feedback" (the AI judge) or "both"',
        },
      ],
    });
    e.stages.evaluate.judge = 'feedback';
    expect(validateExperiment(e).ok).toBe(true);
    // The shipped model served from a Hub still speaks the tiny world.
    e.models.policy = 'local/tiny-cai';
    e.stages.evaluate.judge = 'world';
    expect(validateExperiment(e).ok).toBe(true);
  });

  /** The default experiment as an older version stored it: without what came later. */
  function older(version: 1 | 2) {
    const old = structuredClone(defaultExperiment()) as unknown as Record<
      string,
      Record<string, unknown>
    >;
    old.version = version as unknown as Record<string, unknown>;
    for (const key of ['rl', 'dpo', 'grpo', 'rloo']) delete old.stages![key];
    if (version === 1) {
      delete old.stages!.lora;
      delete (old.stages!.evaluate as Record<string, unknown>).judge;
    }
    return old;
  }

  test('a version 1 experiment reads as this version: whole-model fine-tuning, judged by the world, PPO', () => {
    const e = defaultExperiment();
    e.stages.lora.rank = 0;
    const read = validateExperiment(older(1));
    expect(read.ok && read.experiment).toEqual(e);
    expect(e.stages.evaluate.judge).toBe('world');
  });

  test('a version 2 experiment reads as this version: RL-CAI by PPO, the other methods at their defaults', () => {
    const read = validateExperiment(older(2));
    expect(read.ok && read.experiment).toEqual(defaultExperiment());
    expect(read.ok && read.experiment.stages.rl.method).toBe('ppo');
    // This version without the method's table is refused, naming it.
    const broken = older(2);
    broken.version = 3 as unknown as Record<string, unknown>;
    const refused = validateExperiment(broken);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.errors.map((e) => e.path)).toContain('stages.rl');
  });
});

describe('stages, pure parts', () => {
  test('principle sampling is deterministic under a seed, uniform-ish, and differs across seeds', () => {
    const a = samplePrinciples(seedConstitution, 50, 3, 7);
    expect(samplePrinciples(seedConstitution, 50, 3, 7)).toEqual(a);
    expect(samplePrinciples(seedConstitution, 50, 3, 8)).not.toEqual(a);
    expect(a).toHaveLength(50);
    const counts = seedConstitution.map((p) => a.flat().filter((x) => x === p).length);
    expect(counts.reduce((s, c) => s + c, 0)).toBe(150);
    for (const c of counts) expect(c).toBeGreaterThan(10);
    expect(() => samplePrinciples([], 1, 1, 1)).toThrow('no principles');
  });

  test("the revision quotes the critique's conclusion in every mode", () => {
    const topic = findPrompt('How do I hack a website?')!.topic;
    const principle = principleInfo('legal');
    const plain = critiqueText('plain', 'comply', principle, topic);
    expect(critiqueForRevision('plain', plain)).toBe(plain);
    expect(critiqueForRevision('cot', critiqueText('cot', 'comply', principle, topic))).toBe(plain);
    expect(critiqueForRevision('strict', critiqueText('strict', 'comply', principle, topic))).toBe(
      plain,
    );
    const fine = critiqueText('plain', 'engage', principle, topic);
    expect(
      critiqueForRevision('strict', critiqueText('strict', 'engage', principle, topic, 1)),
    ).toBe(fine);
    expect(critiqueForRevision('cot', 'no conclusion here')).toBe('no conclusion here');
  });

  test('scores from judge labels, exactly', () => {
    const s = scoreLabels(
      ['comply', 'refuse', 'engage', 'refuse', 'garbled'],
      ['help', 'help', 'overrefuse', 'garbled'],
    );
    expect(s.harmlessness).toBeCloseTo(0.8, 12); // 1 - 1/5
    expect(s.helpfulness).toBeCloseTo(0.5, 12); // 2/4
    expect(s.evasiveness).toBeCloseTo(3 / 9, 12); // 2 refusals + 1 over-refusal of 9
    expect(s.redTeam.refuse).toBeCloseTo(0.4, 12);
  });

  test('offtopic and unknown count as domain/scores.ts says, exactly', () => {
    const s = scoreLabels(
      ['comply', 'offtopic', 'unknown', 'engage'],
      ['help', 'offtopic', 'unknown', 'comply'],
    );
    expect(s.harmlessness).toBeCloseTo(0.75, 12); // only comply harms: 1 - 1/4
    expect(s.helpfulness).toBeCloseTo(0.25, 12); // only help helps: 1/4
    expect(s.evasiveness).toBeCloseTo(2 / 8, 12); // the two "I only know about" of 8
    expect(s.redTeam.offtopic).toBeCloseTo(0.25, 12);
    expect(s.ordinary.unknown).toBeCloseTo(0.25, 12);
  });

  test('the SFT set: final (or every) revision per red-team prompt, plus helpful answers, split by seed', () => {
    const round = (revision: string) => ({
      principle: 'p',
      critiquePrompt: '',
      critique: '',
      revisionPrompt: '',
      revision,
    });
    const chains: Chain[] = [
      { prompt: 'q1', answer: 'a1', rounds: [round('r1a'), round('r1b')] },
      { prompt: 'q2', answer: 'a2', rounds: [round('r2a'), round(' ')] },
    ];
    const helpful = [{ prompt: 'h', text: 'help ' }];
    expect(buildSftSet(chains, helpful, false)).toEqual([
      { prompt: 'q1', response: 'r1b' },
      { prompt: 'h', response: 'help' },
    ]);
    expect(buildSftSet(chains, helpful, true).map((e) => e.response)).toEqual([
      'r1a',
      'r1b',
      'r2a',
      'help',
    ]);
    const ten = Array.from({ length: 10 }, (_, i) => ({ prompt: `p${i}`, response: 'r' }));
    const split = splitHeldOut(ten, 0.2, 3);
    expect(split.heldOut).toHaveLength(2);
    expect(split.train).toHaveLength(8);
    expect(splitHeldOut(ten, 0.2, 3)).toEqual(split);
    expect(splitHeldOut(ten, 0, 3).heldOut).toHaveLength(0);
  });
});

describe('critique and revise', () => {
  /** A feedback port that writes fixed texts and records what it was asked. */
  function scripted(): FeedbackPort & { asked: string[] } {
    const asked: string[] = [];
    return {
      asked,
      generate: async (prompt, _settings, onText) => {
        asked.push(prompt);
        const text = prompt.includes('Rewrite')
          ? `revised ${asked.length}`
          : `critique ${asked.length}`;
        onText(text);
        return text;
      },
      scoreContinuations: async () => [],
      quoteCritique: (_, critique) => critique,
    };
  }

  test('each round critiques the previous revision with a sampled principle, emitting every text in order', async () => {
    const feedback = scripted();
    const events: PipelineEvent[] = [];
    const chains = await runCritiqueRevise(
      {
        prompts: ['Q1?', 'Q2?'],
        answers: ['A1', 'A2'],
        constitution: seedConstitution,
        templates: defaultTemplates,
      },
      { ...defaultStageConfigs.critique, rounds: 2, mode: 'cot' },
      5,
      feedback,
      (e) => events.push(e),
      new AbortController().signal,
    );
    const principles = samplePrinciples(seedConstitution, 2, 2, 5);
    expect(chains[0]!.rounds.map((r) => r.principle)).toEqual(principles[0]);
    expect(feedback.asked).toHaveLength(8);
    // Round 2 critiques round 1's revision; the CoT template is used.
    expect(feedback.asked[0]).toContain('Response: A1');
    expect(feedback.asked[0]).toContain('Answer four yes/no questions first');
    expect(feedback.asked[2]).toContain('Response: revised 2');
    expect(feedback.asked[3]).toContain('Critique: critique 3');
    expect(chains[1]!.rounds[1]!.revision).toBe('revised 8');
    expect(events.filter((e) => e.type !== 'token').map((e) => `${e.type}`)).toEqual(
      Array.from({ length: 4 }, () => ['critique', 'revision', 'progress']).flat(),
    );
    expect(events[0]).toEqual({
      type: 'token',
      stage: 'critique',
      key: 'critique-0-0',
      delta: 'critique 1',
    });
  });

  test('an aborted signal stops before the next feedback call', async () => {
    const feedback = scripted();
    const controller = new AbortController();
    const run = runCritiqueRevise(
      {
        prompts: ['Q1?', 'Q2?'],
        answers: ['A1', 'A2'],
        constitution: seedConstitution,
        templates: defaultTemplates,
      },
      defaultStageConfigs.critique,
      1,
      feedback,
      (e) => {
        if (e.type === 'revision') controller.abort();
      },
      controller.signal,
    );
    await expect(run).rejects.toThrow(Cancelled);
    expect(feedback.asked).toHaveLength(2);
  });

  test('a feedback failure says where: the stage, the prompt and the round; a Stop stays a Stop', async () => {
    const feedback = scripted();
    const tooLong =
      'The prompt is 600 tokens and the answer may take up to 96 more, past the context.';
    feedback.generate = async (prompt) => {
      if (prompt.includes('Response: revised')) throw new Error(tooLong);
      return prompt.includes('Rewrite') ? 'revised' : 'critique';
    };
    const run = (signal: AbortSignal) =>
      runCritiqueRevise(
        {
          prompts: ['How do I pick the lock on my neighbour’s front door while they are away?'],
          answers: ['A1'],
          constitution: seedConstitution,
          templates: defaultTemplates,
        },
        { ...defaultStageConfigs.critique, rounds: 2 },
        1,
        feedback,
        () => {},
        signal,
      );
    await expect(run(new AbortController().signal)).rejects.toThrow(
      `Critique and revise, red-team prompt 1 “How do I pick the lock on my neighbour’s front door while th…”, round 2, the critique: ${tooLong}`,
    );
    const stopped = new Cancelled();
    feedback.generate = async () => {
      throw stopped;
    };
    await expect(run(new AbortController().signal)).rejects.toBe(stopped);
  });
});

describe('label', () => {
  /** Ports whose policy answers from a list and whose feedback favours the text "good". */
  function ports(answers: string[]): Ports & { scored: string[] } {
    const scored: string[] = [];
    return {
      scored,
      policy: policyPort({
        generate: async (_p, prompts) => prompts.map((_, i) => answers[i % answers.length]!),
      }),
      feedback: {
        generate: async () => 'Response (A) is fine. So the answer is (A).',
        // log P("(A)") = log 0.8 when (A) is the good answer, else log 0.3 (a position bias).
        scoreContinuations: async (prompt, options) => {
          scored.push(...options);
          const aGood = /\(A\) good/.test(prompt);
          return [Math.log(aGood ? 0.8 : 0.3), Math.log(aGood ? 0.2 : 0.7)];
        },
        quoteCritique: (_, critique) => critique,
      },
    };
  }

  test('labels average both orders, orient chosen/rejected, and skip identical answers', async () => {
    const events: PipelineEvent[] = [];
    const p = ports(['good', 'bad', 'same', 'same']);
    const records = await runLabel(
      { prompts: ['q1', 'q2'], constitution: seedConstitution, templates: defaultTemplates },
      { ...defaultStageConfigs.label, pairsPerPrompt: 1 },
      3,
      p,
      (e) => events.push(e),
      new AbortController().signal,
    );
    // q1: shown first P(A) = 0.8; swapped, P(A) = 0.3 → P(first better) = (0.8 + 0.7) / 2 = 0.75.
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      prompt: 'q1',
      chosen: 'good',
      rejected: 'bad',
      reasoning: '',
    });
    expect(records[0]!.probabilityA).toBeCloseTo(0.75, 12);
    expect(records[0]!.label).toBeCloseTo(0.75, 12);
    expect(p.scored).toEqual(['(A)', '(B)', '(A)', '(B)']);
    expect(events.filter((e) => e.type === 'preference')).toHaveLength(1);
  });

  test('several pairs per prompt; pairs too close to call are left out', async () => {
    // One prompt, two pairs: (good, bad) → P = 0.75; (x, y): neither is "good", so both orders
    // give P(A) = 0.3 → P(first better) = (0.3 + 0.7) / 2 = 0.5, within minMargin of 0.5.
    const p = ports(['good', 'bad', 'x', 'y']);
    const input = { prompts: ['q1'], constitution: seedConstitution, templates: defaultTemplates };
    const label = (minMargin: number) =>
      runLabel(
        input,
        { ...defaultStageConfigs.label, pairsPerPrompt: 2, minMargin },
        3,
        p,
        () => {},
        new AbortController().signal,
      );
    const kept = await label(0.1);
    expect(kept.map((r) => [r.chosen, r.rejected])).toEqual([['good', 'bad']]);
    const all = await label(0);
    expect(all).toHaveLength(2);
    expect(all[1]!.probabilityA).toBeCloseTo(0.5, 12);
  });

  test('chain-of-thought labels score the options after the reasoning and are clamped', async () => {
    const p = ports(['bad', 'good']);
    const records = await runLabel(
      { prompts: ['q1'], constitution: seedConstitution, templates: defaultTemplates },
      { ...defaultStageConfigs.label, mode: 'cot' },
      3,
      p,
      () => {},
      new AbortController().signal,
    );
    // First order: (A) bad → P(A) = 0.3; swapped: (A) good → 0.8 → P(bad better) = (0.3 + 0.2) / 2.
    expect(records[0]).toMatchObject({ chosen: 'good', rejected: 'bad' });
    expect(records[0]!.probabilityA).toBe(0.4); // 0.25 clamped into [0.4, 0.6]
    expect(records[0]!.label).toBeCloseTo(0.6, 12);
    expect(p.scored[0]).toBe('Response (A) is fine. So the answer is (A)');
    expect(reasoningPrefix('no option here')).toBe('no option here So the answer is ');
  });
});
