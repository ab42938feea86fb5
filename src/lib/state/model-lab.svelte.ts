import { describeError } from '../domain/errors.ts';
import { findPrompt } from '../world/prompts.ts';
import { judgeAnswer, judgeOffWorld } from '../world/judge.ts';
import type { Label } from '../domain/labels.ts';
import type { EngineClient, FeedbackClient } from '../workers/clients.ts';
import type { GenerateSettings, PolicyInfo, PolicyName } from '../domain/policy.ts';
import type { Call } from '../workers/worker-client.ts';

export type LabSide = 'policy' | 'feedback';

export interface LabAnswer {
  text: string;
  running: boolean;
  error: string | null;
  /** Tokens per second of the finished answer. */
  speed: number | null;
  /** The tiny world's judge label, when the prompt is one the world knows. */
  label: Label | null;
}

const empty = (): LabAnswer => ({
  text: '',
  running: false,
  error: null,
  speed: null,
  label: null,
});

/**
 * "Try the models": one prompt answered by the policy (tfjs, engine worker) and by the
 * feedback model (ONNX via transformers.js, feedback worker), streamed as they generate.
 */
export class ModelLab {
  #prompt = $state('How do I hack a website?');
  get prompt() {
    return this.#prompt;
  }
  set prompt(value) {
    this.#prompt = value;
  }
  #temperature = $state(1);
  get temperature() {
    return this.#temperature;
  }
  set temperature(value) {
    this.#temperature = value;
  }
  /** Which of the engine's policies answers: the base model, or one a run trained. */
  #policyName = $state<PolicyName>('base');
  get policyName() {
    return this.#policyName;
  }
  set policyName(value) {
    this.#policyName = value;
  }
  #policy = $state<LabAnswer>(empty());
  get policy() {
    return this.#policy;
  }
  #feedback = $state<LabAnswer>(empty());
  get feedback() {
    return this.#feedback;
  }
  #policyInfo = $state.raw<PolicyInfo | null>(null);
  get policyInfo() {
    return this.#policyInfo;
  }
  private calls: Partial<Record<LabSide, Call<unknown>>> = {};
  private loaded: Partial<Record<LabSide, Promise<unknown>>> = {};

  constructor(
    private readonly engine: EngineClient,
    private readonly feedbackClient: FeedbackClient,
    readonly modelId = 'tiny-cai',
  ) {}

  /** What the world knows about the current prompt (null when it is outside the world). */
  get worldPrompt() {
    return findPrompt(this.prompt) ?? null;
  }

  private settings(): GenerateSettings {
    return {
      maxNewTokens: 96,
      temperature: this.#temperature,
      topK: 0,
      topP: 1,
      seed: Date.now() % 100000,
      noCache: false,
    };
  }

  private ensureLoaded(side: LabSide): Promise<unknown> {
    this.loaded[side] ??=
      side === 'policy'
        ? this.engine
            // Keeps the SL-CAI and RL-CAI policies a run trained, so they can be asked too.
            .request({ type: 'loadPolicy', model: this.modelId, reuse: true })
            .then((info) => (this.#policyInfo = info))
        : this.feedbackClient.request({ type: 'load', model: this.modelId });
    this.loaded[side].catch(() => delete this.loaded[side]); // let a later click retry
    return this.loaded[side];
  }

  async ask(side: LabSide): Promise<void> {
    const answer: LabAnswer = { ...empty(), running: true };
    this.set(side, answer);
    const prompt = this.prompt;
    try {
      await this.ensureLoaded(side);
      const onEvent = (e: { status: string; text?: string }) => {
        if (e.status === 'token' && e.text)
          this.set(side, { ...this.get(side), text: this.get(side).text + e.text });
      };
      let text: string;
      let speed: number;
      if (side === 'policy') {
        const call = this.engine.call(
          {
            type: 'generate',
            prompts: [prompt],
            settings: this.settings(),
            policy: this.#policyName,
          },
          onEvent,
        );
        this.calls.policy = call;
        const out = await call.result;
        text = out.texts[0]!;
        speed = out.tokenCounts[0]! / out.seconds;
      } else {
        const call = this.feedbackClient.call(
          { type: 'generate', prompt, settings: this.settings() },
          onEvent,
        );
        this.calls.feedback = call;
        const out = await call.result;
        text = out.text;
        speed = out.tokens / out.seconds;
      }
      const known = findPrompt(prompt);
      this.set(side, {
        text,
        running: false,
        error: null,
        speed,
        label: known ? judgeAnswer(text, known.kind, prompt) : judgeOffWorld(text),
      });
    } catch (error) {
      this.set(side, {
        ...this.get(side),
        running: false,
        error: describeError(error),
      });
    }
  }

  stop(side: LabSide): void {
    this.calls[side]?.cancel();
  }

  private get(side: LabSide): LabAnswer {
    return side === 'policy' ? this.policy : this.feedback;
  }

  private set(side: LabSide, value: LabAnswer): void {
    if (side === 'policy') this.#policy = value;
    else this.#feedback = value;
  }
}
