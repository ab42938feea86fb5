import { defaultsOf, num, type ConfigOf } from '../config/fields.ts';

/**
 * Settings of the SFT trainer (model/sft.ts), one field table. A short, gentle fine-tune:
 * the tiny model was pretrained at a peak of 3e-3.
 */
export const sftTrainFields = {
  epochs: num({
    label: 'SFT epochs',
    default: 2,
    min: 1,
    max: 20,
    integer: true,
    unit: 'passes',
    main: true,
    help: 'Passes over the revisions (and the ordinary answers that keep the policy helpful). More passes make the policy so sure of each training answer that RL-CAI’s samples of a prompt are all the same answer, and nothing is left to compare.',
  }),
  batchSize: num({
    label: 'SFT batch size',
    default: 8,
    min: 1,
    max: 64,
    integer: true,
    unit: 'examples',
    help: 'Examples per optimizer step.',
  }),
  learningRate: num({
    label: 'SFT learning rate',
    default: 5e-4,
    min: 0,
    max: 0.1,
    step: 0.0001,
    main: true,
    help: 'Peak AdamW learning rate after the linear warm-up, then cosine decay to 10% of it: gentle, since the tiny model was pretrained at 3e-3.',
  }),
  warmupRatio: num({
    label: 'SFT warm-up share',
    default: 0.1,
    min: 0,
    max: 1,
    help: 'Share of all steps spent warming the learning rate up linearly.',
  }),
  maxGradNorm: num({
    label: 'SFT gradient clip',
    default: 1,
    min: 0,
    max: 1000,
    help: 'Global gradient-norm clip.',
  }),
  weightDecay: num({
    label: 'SFT weight decay',
    default: 0,
    min: 0,
    max: 1,
    help: 'AdamW’s decoupled weight decay.',
  }),
} as const;

export type SftConfig = ConfigOf<typeof sftTrainFields>;
export const defaultSftConfig: SftConfig = defaultsOf(sftTrainFields);
