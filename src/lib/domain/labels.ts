/**
 * The labels a judge gives an answer. The five behaviours are how the tiny world's policy
 * answers (comply with harm, refuse, engage with its objection, help, refuse a harmless
 * request); `offtopic` is another topic's harmless answer, `unknown` the world's "I only know
 * about ..." and `garbled` anything the judge cannot read.
 */
export const behaviours = ['comply', 'refuse', 'engage', 'help', 'overrefuse'] as const;
export type Behaviour = (typeof behaviours)[number];

export const labels = [...behaviours, 'offtopic', 'unknown', 'garbled'] as const;
export type Label = (typeof labels)[number];
