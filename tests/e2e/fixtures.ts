import type { Browser, Page } from 'playwright-core';
import { inject } from 'vitest';
import { launchChromium, watchPage, type PageProblems } from '../../scripts/lib/browser.ts';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import type { ExperimentReport } from '../../src/lib/pipeline/run-report.ts';
import {
  defaultExperiment,
  withFirstPrompts,
  type Experiment,
} from '../../src/lib/experiment/experiment.ts';
import type { EngineClient, FeedbackClient } from '../../src/lib/workers/clients.ts';

export const baseUrl = () => inject('baseUrl');

/** The handle main.ts exposes for the devtools console, as page.evaluate sees it. */
export type PlaygroundHandle = {
  engine: EngineClient;
  feedback: FeedbackClient;
  defaultExperiment: () => Experiment;
  runExperiment: (
    data: unknown,
    stages: 'sl' | 'all',
    emit: (e: PipelineEvent) => void,
    signal?: AbortSignal,
  ) => Promise<{ report: ExperimentReport; checkpoints: { sl?: Uint8Array } }>;
};

/**
 * Opens the app at `query` in a fresh page and waits until the engine has chosen a backend
 * (or failed, which fails the test with the page's own message).
 */
export async function openApp(
  browser: Browser,
  query = '',
): Promise<{ page: Page; problems: PageProblems }> {
  const page = await browser.newPage();
  const problems = watchPage(page);
  await page.goto(baseUrl() + query);
  const badge = page.getByTestId('backend-badge');
  await page
    .getByTestId('backend-name')
    .or(page.getByText('Engine failed to start'))
    .waitFor({ timeout: 90_000 });
  if (await page.getByText('Engine failed to start').count()) {
    await badge.click();
    throw new Error(await page.getByTestId('engine-panel').innerText());
  }
  return { page, problems };
}

/** The default experiment cut down so the whole recipe runs in well under a minute here:
 * `redTeam` training prompts, `rounds` critique rounds, 2 PPO iterations of 4 rollouts. */
export function smallRecipe(redTeam = 3, rounds = 1): Experiment {
  const e = withFirstPrompts(defaultExperiment(), {
    redTeam,
    ordinary: 2,
    heldOutRedTeam: 4,
    heldOutOrdinary: 2,
  });
  e.stages.critique.rounds = rounds;
  e.stages.sft.epochs = 1;
  e.stages.label.pairsPerPrompt = 2;
  e.stages.reward.epochs = 1;
  Object.assign(e.stages.ppo, { iterations: 2, batchSize: 4, valueWarmup: 1, responseLength: 32 });
  return e;
}

/** Parses a number the UI shows in exponent form ("3.8e-6"). */
export async function shownNumber(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent())?.trim() ?? '';
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`${testId} shows "${text}", not a number`);
  return value;
}

export { launchChromium };
