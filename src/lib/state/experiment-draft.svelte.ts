/**
 * The experiment being edited: the editor's state, its validation, and where it comes from
 * (a share link, the last session's IndexedDB copy, or the defaults). Holds no pipeline logic.
 */
import { describeError } from '../domain/errors.ts';
import { isHubId } from '../domain/model-id.ts';
import {
  describeErrors,
  validateExperiment,
  type FieldError,
} from '../experiment/experiment-check.ts';
import { defaultExperiment, type Experiment } from '../experiment/experiment.ts';
import { realModelLora } from '../model/adapters/lora-config.ts';
import type { ConstitutionPreset } from '../experiment/presets.ts';
import type { RunStore } from '../runs/run-store.ts';
import {
  decodeShareLink,
  encodeShareLink,
  isShareLink,
  type PanelId,
} from '../experiment/share-link.ts';

export type PromptSetKey = 'redTeam' | 'ordinary' | 'heldOutRedTeam' | 'heldOutOrdinary';

export class ExperimentDraft {
  #experiment = $state<Experiment>(defaultExperiment());
  get experiment() {
    return this.#experiment;
  }
  /** Panels hidden by the link this page was opened with (a teacher's choice). */
  #hidden = $state<PanelId[]>([]);
  get hidden() {
    return this.#hidden;
  }
  /** A message about where the experiment came from when that went wrong (bad link…). */
  #notice = $state<string | null>(null);
  get notice() {
    return this.#notice;
  }
  #storageError = $state<string | null>(null);
  get storageError() {
    return this.#storageError;
  }
  /** The user's click allowing Hub downloads for this page (never part of a link). */
  #hubAllowed = $state(false);
  get hubAllowed() {
    return this.#hubAllowed;
  }
  set hubAllowed(value) {
    this.#hubAllowed = value;
  }

  /** Every problem with the experiment as edited, each naming its field. */
  errors: FieldError[] = $derived.by(() => {
    const checked = validateExperiment($state.snapshot(this.experiment));
    return checked.ok ? [] : checked.errors;
  });

  constructor(private readonly store: RunStore | null) {}

  /** Opens the experiment of a share link if there is one, else the last saved one. */
  async restore(hash: string): Promise<void> {
    if (isShareLink(hash)) {
      const link = await decodeShareLink(hash);
      if (link.ok) {
        this.#experiment = link.experiment;
        this.#hidden = link.hidden;
        this.#notice = link.note ?? null;
        await this.save();
        return;
      }
      this.#notice = `${link.message} The default experiment is open instead.`;
      this.#experiment = defaultExperiment();
      return;
    }
    if (!this.store) return;
    try {
      const saved = await this.store.loadExperiment();
      const checked = saved && validateExperiment(saved);
      if (checked && checked.ok) this.#experiment = checked.experiment;
      else if (checked)
        this.#notice = `The saved experiment could not be read (${describeErrors(checked.errors)}); the default experiment is open instead.`;
    } catch (error) {
      this.#storageError = describeError(error);
    }
  }

  /** Stores the experiment (called after edits); a storage failure is shown, not thrown. */
  async save(): Promise<void> {
    if (!this.store) return;
    try {
      await this.store.saveExperiment($state.snapshot(this.experiment) as Experiment);
      this.#storageError = null;
    } catch (error) {
      this.#storageError = describeError(error);
    }
  }

  /** Models of the experiment that a run downloads from the Hub (the policy, the feedback
   * model, or both): nothing is fetched before the user allows it (`hubAllowed`). */
  get hubModels(): string[] {
    const { policy, feedback } = this.experiment.models;
    const ids = [policy, feedback].filter(isHubId);
    return ids.filter((id, i) => ids.indexOf(id) === i);
  }

  /** The experiment to run: a plain, validated copy, or the problems that stop it. */
  checked(): { ok: true; experiment: Experiment } | { ok: false; message: string } {
    // The editor's experiment was checked on its way in and on every edit (`errors`).
    if (this.errors.length) return { ok: false, message: describeErrors(this.errors) };
    if (this.hubModels.length && !this.hubAllowed)
      return {
        ok: false,
        message: `it downloads ${this.hubModels.join(' and ')} from the Hugging Face Hub, which needs your permission first (Models section)`,
      };
    return { ok: true, experiment: $state.snapshot(this.experiment) as Experiment };
  }

  /** The share link of the experiment as it is now (the current page, another hash). */
  async shareUrl(base: string, hidden: PanelId[] = []): Promise<string> {
    const hash = await encodeShareLink($state.snapshot(this.experiment) as Experiment, hidden);
    return base.replace(/#.*$/, '') + hash;
  }

  reset(): void {
    this.usePreset(defaultExperiment());
  }

  /**
   * Makes a real checkpoint (a Hub id, or the picked files) the experiment's policy: it trains
   * LoRA adapters (rank 8 unless a rank is set) and is judged by the feedback model, since the
   * tiny world's judge reads only the tiny model.
   */
  usePolicy(id: string): void {
    const s = this.experiment.stages;
    this.experiment.models.policy = id;
    if (s.lora.rank === 0) s.lora = { ...realModelLora };
    if (s.evaluate.judge === 'world') s.evaluate.judge = 'feedback';
  }

  /** Replaces the whole experiment with a preset's (experiment-presets.ts). */
  usePreset(experiment: Experiment): void {
    this.#experiment = experiment;
    this.#notice = null;
  }

  applyPreset(preset: ConstitutionPreset): void {
    this.experiment.constitution = [...preset.principles];
  }

  addPrinciple(text = ''): void {
    this.experiment.constitution.push(text);
  }

  removePrinciple(i: number): void {
    this.experiment.constitution.splice(i, 1);
  }

  movePrinciple(i: number, by: -1 | 1): void {
    const list = this.experiment.constitution;
    const j = i + by;
    if (j < 0 || j >= list.length) return;
    [list[i], list[j]] = [list[j]!, list[i]!];
  }

  prompts(key: PromptSetKey): string[] {
    const p = this.experiment.prompts;
    if (key === 'heldOutRedTeam') return p.heldOut.redTeam;
    if (key === 'heldOutOrdinary') return p.heldOut.ordinary;
    return p[key];
  }

  /** Replaces a prompt set from text, one prompt per line (blank lines dropped). */
  setPrompts(key: PromptSetKey, text: string): void {
    const list = text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const p = this.experiment.prompts;
    if (key === 'heldOutRedTeam') p.heldOut.redTeam = list;
    else if (key === 'heldOutOrdinary') p.heldOut.ordinary = list;
    else p[key] = list;
  }
}
