import { Environment, Template } from '@huggingface/jinja';

/**
 * Chat templates rendered with a bound. A checkpoint's template is code from outside: Jinja has
 * no while loop, so its only way to run (and allocate) without end is `range` with a huge or
 * computed count, and nested loops multiply. Here every `range` of one render draws from one
 * budget of items, counted before the list is made; past it the render stops with a message
 * instead of running the worker out of memory. A macro that calls itself ends in JavaScript's
 * own stack limit, also an error.
 *
 * transformers.js bundles its own copy of the Jinja interpreter, so this module renders with
 * the package's (the same interpreter, version-pinned in package.json) and hands the compiled
 * template to the tokenizer's template cache (hf-tokenizer.ts).
 */

/** Items every `range` of one render may produce in all (a chat of a few messages needs tens). */
export const rangeBudget = 100_000;

let left = rangeBudget;

/** Python's range(stop) / range(start, stop[, step]), counted against the render's budget. */
function boundedRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (![start, stop, step].every(Number.isInteger))
    throw new Error('The chat template called range() with a number that is not whole.');
  if (step === 0) throw new Error('The chat template called range() with a step of zero.');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  left -= count;
  if (left < 0)
    throw new Error(
      `The chat template asked range() for more than ${rangeBudget} items in one message: it is taken to loop without end, so the model's chat format cannot be used.`,
    );
  return Array.from({ length: count }, (_, i) => start + i * step);
}

const plainSet = Environment.prototype.set;
Environment.prototype.set = function (this: Environment, name: string, value: unknown) {
  return plainSet.call(this, name, name === 'range' ? boundedRange : value);
};

/** A compiled template whose every render has the full budget. */
export function boundedTemplate(text: string): Template {
  const template = new Template(text);
  const render = template.render.bind(template);
  template.render = (items) => {
    left = rangeBudget;
    return render(items);
  };
  return template;
}
