import { describe, expect, test } from 'vitest';
import {
  modelRefText,
  modelSource,
  parseModelRef,
  pickedFilesId,
} from '../../src/lib/domain/model-id.ts';
import { defaultExperiment } from '../../src/lib/experiment/experiment.ts';
import { validateExperiment } from '../../src/lib/experiment/experiment-check.ts';
import { policyRequest } from '../../src/lib/pipeline/run-experiment.ts';

describe('a model reference, parsed once', () => {
  test('folders, Hub ids at a revision (main when none), picked files; anything else refused', () => {
    expect(parseModelRef('tiny-cai')).toEqual({ kind: 'local', folder: 'tiny-cai' });
    expect(parseModelRef('Qwen/Qwen3-0.6B')).toEqual({
      kind: 'hub',
      id: 'Qwen/Qwen3-0.6B',
      revision: 'main',
    });
    expect(parseModelRef('Qwen/Qwen3-0.6B@refs/pr/12')).toEqual({
      kind: 'hub',
      id: 'Qwen/Qwen3-0.6B',
      revision: 'refs/pr/12',
    });
    expect(parseModelRef(pickedFilesId)).toEqual({ kind: 'picked' });
    for (const bad of [
      'https://evil.example/x',
      '../secret',
      'a/b/c',
      'owner/name@',
      'owner/name@../../x',
      'owner/name@/abs',
      'owner/name@v1/',
      'tiny-cai@v1',
    ])
      expect(parseModelRef(bad), bad).toBeNull();
    expect(modelSource('owner/name@v1')).toBe('hub');
  });

  test('written back as the experiment holds it: the revision only when not main', () => {
    for (const text of ['tiny-cai', 'owner/name', 'owner/name@v1.0', pickedFilesId])
      expect(modelRefText(parseModelRef(text)!)).toBe(text);
    expect(modelRefText({ kind: 'hub', id: 'owner/name', revision: 'main' })).toBe('owner/name');
  });

  test('the revision an experiment names is the one the run downloads and loads', () => {
    const e = defaultExperiment();
    e.models.policy = 'owner/name@a1b2c3d';
    e.stages.evaluate.judge = 'feedback';
    expect(validateExperiment(JSON.parse(JSON.stringify(e))).ok).toBe(true);
    expect(
      validateExperiment(
        JSON.parse(JSON.stringify({ ...e, models: { ...e.models, policy: 'o/n@../x' } })),
      ),
    ).toMatchObject({ ok: false, errors: [{ path: 'models.policy' }] });
    const request = policyRequest(e, 'https://hub.example/');
    expect(request.model).toBe('owner/name@a1b2c3d');
    expect(request.hub).toEqual({
      endpoint: 'https://hub.example/',
      id: 'owner/name',
      revision: 'a1b2c3d',
    });
    e.models.policy = 'owner/name';
    expect(policyRequest(e, 'https://hub.example/').hub?.revision).toBe('main');
    e.models.policy = 'tiny-cai';
    expect(policyRequest(e, 'https://hub.example/').hub).toBeUndefined();
  });
});
