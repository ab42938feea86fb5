import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { watchPage } from '../../scripts/lib/browser.ts';
import type { CheckpointSlot } from '../../src/lib/domain/policy.ts';
import { hubBase } from '../../src/lib/model/checkpoints/hub.ts';
import { urlSource } from '../../src/lib/model/checkpoints/load.ts';
import { LoraAdapter } from '../../src/lib/model/adapters/lora.ts';
import { realModelLora } from '../../src/lib/model/adapters/lora-config.ts';
import { parsePeftConfig } from '../../src/lib/model/checkpoints/peft.ts';
import { PolicySession } from '../../src/lib/model/generation/policy-session.ts';
import { readSafetensors } from '../../src/lib/model/checkpoints/safetensors.ts';
import { stageSeeds } from '../../src/lib/pipeline/step-context.ts';
import { stepsOf } from '../../src/lib/pipeline/steps.ts';
import { defaultExperiment, withFirstPrompts } from '../../src/lib/experiment/experiment.ts';
import { encodeShareLink } from '../../src/lib/experiment/share-link.ts';
import { parse as parseYaml } from 'yaml';
import { readZip } from '../zip-reader.ts';
import { baseUrl, launchChromium } from './fixtures.ts';

let browser: Browser;
beforeAll(async () => {
  await tf.setBackend('cpu');
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

const hub = () => inject('hubUrl');
const policyId = 'test-org/tiny-qwen3';
const feedbackId = 'test-org/tiny-cai-onnx';
const lora = { ...realModelLora, rank: 4, alpha: 8 };

/** The whole recipe cut to a few prompts and tokens, on the Hub's random Qwen3 with LoRA. */
function tinyRealExperiment() {
  const e = withFirstPrompts(defaultExperiment(), {
    redTeam: 3,
    ordinary: 1,
    heldOutRedTeam: 2,
    heldOutOrdinary: 1,
  });
  e.name = 'Random Qwen3 with LoRA';
  e.models = { policy: policyId, feedback: feedbackId };
  const s = e.stages;
  s.lora = lora;
  s.generate.maxNewTokens = 12;
  s.critique = {
    ...s.critique,
    rounds: 1,
    critique: { temperature: 0, maxNewTokens: 12 },
    revision: { temperature: 0, maxNewTokens: 12 },
  };
  Object.assign(s.sft, { epochs: 1, batchSize: 2, learningRate: 1e-2, heldOutShare: 0 });
  Object.assign(s.label, { pairsPerPrompt: 1, minMargin: 0 });
  s.label.sampling.maxNewTokens = 12;
  Object.assign(s.reward, { epochs: 1, batchSize: 2, heldOutShare: 0.25, learningRate: 1e-2 });
  Object.assign(s.ppo, {
    iterations: 1,
    batchSize: 2,
    responseLength: 8,
    miniBatches: 1,
    ppoEpochs: 1,
    valueWarmup: 0,
    learningRate: 1e-2,
  });
  Object.assign(s.evaluate, { maxNewTokens: 12, judge: 'feedback' });
  return e;
}

/** Tensors of a safetensors file as plain arrays, by name. */
const tensorsOf = (bytes: Uint8Array) => readSafetensors(bytes).tensors;
const same = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

test('the whole recipe on a random Hub chat model with LoRA: every stage, adapters trained and base untouched, the AI judge named, PEFT and TRL exports', async () => {
  const experiment = tinyRealExperiment();
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(baseUrl() + (await encodeShareLink(experiment)));
  await page.getByTestId('backend-name').waitFor({ timeout: 90_000 });

  // The user points the app at the (stand-in) Hub and allows the two downloads.
  await page.getByTestId('own-endpoint').fill(hub());
  await page.getByTestId('own-endpoint').press('Tab');
  const consent = page.getByTestId('hub-consent');
  await expect.poll(() => consent.textContent()).toContain(`${policyId} and ${feedbackId}`);
  expect(await consent.textContent()).toContain(new URL(hub()).host);
  await consent.locator('input').check();

  // Before starting: the download size, the memory plan and the time, from a probe here.
  const estimate = page.getByTestId('real-estimate');
  await estimate.getByRole('button', { name: /Estimate download, memory and time/ }).click();
  const summary = estimate.getByTestId('real-estimate-summary');
  await expect
    .poll(
      async () => {
        const failed = await estimate.getByRole('alert').count();
        if (failed) throw new Error(await estimate.innerText());
        return summary.count();
      },
      { timeout: 120_000 },
    )
    .toBe(1);
  expect(await summary.getAttribute('data-fits')).toBe('true');
  expect(await summary.textContent()).toMatch(/Downloads [\d.]+ MiB for the policy/);
  expect(await summary.textContent()).toMatch(
    /at most about .+ for SL-CAI and .+ for the whole recipe/,
  );
  await page.getByTestId('run-panel').getByRole('button', { name: 'Run the whole recipe' }).click();

  // Every step of the recipe finishes.
  const done = page.locator('[data-testid="run-step"][data-state="done"]');
  await expect
    .poll(
      async () => {
        const failed = await page.locator('[data-testid="run-panel"] [role="alert"]').count();
        if (failed) throw new Error(await page.getByTestId('run-panel').innerText());
        return done.count();
      },
      { timeout: 540_000, interval: 1000 },
    )
    .toBe(stepsOf('all', 'ppo').length);

  // The evaluation says who judged: the AI judge, by name, with its confidence.
  const results = page.getByTestId('results-panel');
  const judged = results.getByTestId('judged-by');
  expect(await judged.getAttribute('data-judge')).toBe('feedback');
  expect(await judged.textContent()).toContain(`the AI judge (${feedbackId})`);
  expect(await judged.textContent()).toContain('no ground truth');
  const table = await results.getByTestId('ai-judge').innerText();
  expect(table).toContain('mean confidence');
  expect(table.split('\n').filter((l) => /%/.test(l))).toHaveLength(3); // base, SL-CAI, RL-CAI
  expect(await results.getByTestId('side-by-side').textContent()).toMatch(/AI judge, [\d.]+% sure/);

  // The stored checkpoints: adapters (PEFT names) and a reward head, never the base.
  const stored = await page.evaluate(async () => {
    type Store = { getCheckpoints(id: string): Promise<Record<string, Uint8Array>> };
    const run = (
      globalThis as unknown as {
        caiPlayground: { run: { store: Store; meta: { id: string } } };
      }
    ).caiPlayground.run;
    const all = await run.store.getCheckpoints(run.meta.id);
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, Array.from(v)]));
  });
  const ckpt = (slot: CheckpointSlot) => tensorsOf(Uint8Array.from(stored[slot]!));
  const [sl, rl, reward] = [ckpt('sl'), ckpt('rl'), ckpt('reward')];
  const session = await PolicySession.fromSource(
    policyId,
    urlSource(hubBase(hub(), policyId), 'the stand-in Hub', (url) => fetch(url)),
  );
  const layers = session.config.num_hidden_layers;
  expect(sl.size).toBe(layers * 7 * 2);
  for (const name of sl.keys())
    expect(name).toMatch(/^base_model\.model\.model\.layers\.\d+\..+\.lora_[AB]\.weight$/);
  // SFT changed every adapter weight from its initialisation (B starts at zero)...
  const init = LoraAdapter.init(session.config, lora, stageSeeds(experiment.seed).sft);
  for (const [name, v] of init.named()) {
    const trained = sl.get(`base_model.model.${name}`)!;
    expect(same(trained.data, (await v.data()) as Float32Array), name).toBe(false);
  }
  init.dispose();
  // ...PPO changed every weight of the RL adapter from the SL-CAI one, and the reward model
  // trained its own copy and a head.
  for (const [name, t] of sl) {
    expect(same(rl.get(name)!.data, t.data), `rl ${name}`).toBe(false);
    expect(same(reward.get(name)!.data, t.data), `reward ${name}`).toBe(false);
  }
  expect(reward.get('score.weight')!.shape).toEqual([1, session.config.hidden_size]);

  // The engine's base is the Hub checkpoint as it was: its logits equal the checkpoint's here.
  const text = 'Hello there, how are you?';
  const engine = await page.evaluate(async (t) => {
    type Engine = { request(r: unknown): Promise<{ logits: number[]; tokens: number }> };
    const g = globalThis as unknown as { caiPlayground: { engine: Engine } };
    return g.caiPlayground.engine.request({ type: 'forwardLogits', text: t });
  }, text);
  const model = session.current();
  const ids = session.tokenizer.encode(text);
  const local = tf.tidy(() => {
    const { hidden } = model.forward({
      ids: tf.tensor2d([ids], undefined, 'int32'),
      positions: tf.tensor2d([ids.map((_, i) => i)], undefined, 'int32'),
      keyMask: tf.tensor2d([ids.map(() => 1)]),
    });
    return model.logits(hidden);
  });
  const expected = await local.data();
  local.dispose();
  expect(engine.tokens).toBe(ids.length);
  let worst = 0;
  engine.logits.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - expected[i]!))));
  expect(worst).toBeLessThan(1e-3);

  // Export: the RL-CAI adapter as PEFT's folder, zipped.
  const saved = page.getByTestId('saved-runs');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    saved.getByTestId('export-adapter').click(),
  ]);
  expect(download.suggestedFilename()).toBe('random-qwen3-with-lora-rl-adapter.zip');
  const files = readZip(readFileSync((await download.path())!));
  const dir = 'random-qwen3-with-lora-rl-adapter/';
  expect([...files.keys()].sort()).toEqual([
    `${dir}adapter_config.json`,
    `${dir}adapter_model.safetensors`,
  ]);
  const config = new TextDecoder().decode(files.get(`${dir}adapter_config.json`)!);
  expect(parsePeftConfig(config)).toEqual(lora);
  expect(JSON.parse(config)).toMatchObject({
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: policyId,
    r: 4,
    lora_alpha: 8,
  });
  const exported = tensorsOf(files.get(`${dir}adapter_model.safetensors`)!);
  expect([...exported.keys()].sort()).toEqual([...rl.keys()].sort());
  for (const [name, t] of rl) expect(same(exported.get(name)!.data, t.data), name).toBe(true);

  // And merged into the base: W + (alpha / r) B A for every targeted weight.
  const [mergedDownload] = await Promise.all([
    page.waitForEvent('download'),
    saved.getByTestId('export-merged').click(),
  ]);
  const merged = tensorsOf(readFileSync((await mergedDownload.path())!));
  expect(merged.size).toBe(model.params.size);
  const path = 'model.layers.0.self_attn.q_proj';
  const a = rl.get(`base_model.model.${path}.lora_A.weight`)!;
  const b = rl.get(`base_model.model.${path}.lora_B.weight`)!;
  const w = model.params.get(`${path}.weight`)!;
  const want = tf.tidy(() =>
    tf.add(w, tf.mul(tf.matMul(tf.tensor(b.data, b.shape), tf.tensor(a.data, a.shape)), 2)),
  );
  const got = merged.get(`${path}.weight`)!;
  const wantData = await want.data();
  want.dispose();
  let mergeError = 0;
  got.data.forEach((x, i) => (mergeError = Math.max(mergeError, Math.abs(x - wantData[i]!))));
  expect(mergeError).toBeLessThan(1e-5);
  session.dispose();

  // For TRL: the whole project, with the same adapter and the Hub model ids.
  const [trlDownload] = await Promise.all([
    page.waitForEvent('download'),
    saved.getByTestId('export-trl').click(),
  ]);
  expect(trlDownload.suggestedFilename()).toBe('random-qwen3-with-lora-trl.zip');
  const project = readZip(readFileSync((await trlDownload.path())!));
  const root = 'random-qwen3-with-lora-trl/';
  expect([...project.keys()].map((k) => k.slice(root.length)).sort()).toEqual(
    [
      'README.md',
      'adapter/adapter_config.json',
      'adapter/adapter_model.safetensors',
      'cai_common.py',
      'config.yaml',
      'constitution.json',
      'data/critiques.jsonl',
      'data/preferences.jsonl',
      'data/prompts.jsonl',
      'data/sft.jsonl',
      'requirements.txt',
      'rl_cai.py',
      'sl_cai.py',
    ].sort(),
  );
  expect(project.get(`${root}adapter/adapter_model.safetensors`)).toEqual(
    files.get(`${dir}adapter_model.safetensors`),
  );
  const trlConfig = parseYaml(new TextDecoder().decode(project.get(`${root}config.yaml`)!));
  expect(trlConfig.models.policy).toBe(policyId);
  expect(trlConfig.lora).toMatchObject({ r: 4, lora_alpha: 8, task_type: 'CAUSAL_LM' });
  const sftRows = new TextDecoder()
    .decode(project.get(`${root}data/sft.jsonl`)!)
    .trim()
    .split('\n');
  expect(sftRows.length).toBeGreaterThan(0);

  expect(problems.pageErrors).toEqual([]);
  await context.close();
}, 600_000);
