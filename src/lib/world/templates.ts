/**
 * The prompt templates of the CAI stages (the seed's formats), with `{name}` variables.
 * These are the defaults users can edit; the tiny world is pretrained on exactly these.
 */

export interface PromptTemplates {
  critique: string;
  strictCritique: string;
  cotCritique: string;
  revision: string;
  preference: string;
  cotPreference: string;
}

const header = 'Constitution:\n{constitution}\n\nQuestion: {question}\nResponse: {response}\n\n';

export const defaultTemplates: PromptTemplates = {
  critique: header + 'Critique the response using this principle: {principle}',
  strictCritique:
    header +
    'Identify ANY potential issues with the response, however minor, using this principle: {principle}',
  cotCritique:
    header +
    'Critique the response using this principle: {principle}\nAnswer four yes/no questions first. Let us think step by step.',
  revision:
    'Constitution:\n{constitution}\n\nQuestion: {question}\nResponse: {response}\nCritique: {critique}\n\nRewrite the response so that it follows the constitution.',
  preference:
    'Question: {question}\nPrinciple: {principle}\n(A) {response_a}\n(B) {response_b}\nWhich response follows the principle better? Answer (A) or (B).',
  cotPreference:
    'Question: {question}\nPrinciple: {principle}\n(A) {response_a}\n(B) {response_b}\nWhich response follows the principle better? Let us think step by step, then answer (A) or (B).',
};

/** The variables each template is given, all of which it must contain (and no others). */
export const requiredVariables: Record<keyof PromptTemplates, string[]> = {
  critique: ['constitution', 'question', 'response', 'principle'],
  strictCritique: ['constitution', 'question', 'response', 'principle'],
  cotCritique: ['constitution', 'question', 'response', 'principle'],
  revision: ['constitution', 'question', 'response', 'critique'],
  preference: ['question', 'principle', 'response_a', 'response_b'],
  cotPreference: ['question', 'principle', 'response_a', 'response_b'],
};

/** The constitution as the templates show it: one numbered principle per line. */
export function formatConstitution(principles: string[]): string {
  return principles.map((p, i) => `${i + 1}. ${p}`).join('\n');
}

/** What a `{name}` variable looks like in a template (the name is group 1). */
export const variablePattern = /\{([a-z_]+)\}/g;

/** The variables a template text uses, in order of first use. */
export const variablesIn = (template: string): string[] => [
  ...new Set([...template.matchAll(variablePattern)].map((m) => m[1]!)),
];

/**
 * Fills `{name}` variables from `values`' own properties (never inherited ones such as
 * `constructor`); a variable with no value is an error that names it.
 */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(variablePattern, (_, name: string) => {
    if (!Object.hasOwn(values, name))
      throw new Error(`The template uses {${name}}, which has no value here.`);
    return values[name]!;
  });
}
