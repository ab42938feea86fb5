/**
 * Turns a growing list of token ids into text deltas for streaming: decodes the whole list
 * each time and emits what is new, holding back a trailing incomplete UTF-8 character.
 */
export class TextStream {
  private ids: number[] = [];
  private emitted = '';

  constructor(private readonly decode: (ids: number[]) => string) {}

  /** Adds tokens; returns the new text (possibly empty). */
  push(...tokens: number[]): string {
    this.ids.push(...tokens);
    const text = this.decode(this.ids);
    if (text.endsWith('\uFFFD')) return ''; // a character split across tokens: wait for the rest
    const delta = text.slice(this.emitted.length);
    this.emitted = text;
    return delta;
  }
}
