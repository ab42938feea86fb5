import { continuationLogprobs } from '../src/lib/model/score.ts';
import { formatChat } from '../src/lib/tokenizer/hf-files.ts';
import { critiqueText } from '../src/lib/world/feedback-texts.ts';
import { WorldGenerator } from '../src/lib/world/generator.ts';
import { principleLibrary, principleOf } from '../src/lib/world/principles.ts';
import { promptsWhere } from '../src/lib/world/prompts.ts';
import { Rng } from '../src/lib/util/random.ts';
import { defaultTemplates, formatConstitution, renderTemplate } from '../src/lib/world/templates.ts';
import { loadModelFolder } from './lib/model-folder.ts';
import { useNodeWasm } from './lib/node-tfjs.ts';
async function main() {
await useNodeWasm();
const { model, tokenizer } = loadModelFolder(process.argv[2]!);
const red = promptsWhere({ heldOut: true, kind: 'red-team' }).filter((p) => !p.disguised);
const world = new WorldGenerator(101);
const rng = new Rng(201);
const conf = new Map<string, Map<string, number>>();
let right = 0, n = 0;
const byText = new Map<string, [number, number]>();
for (const p of red) {
  const constitution = world.constitution().filter((t) => principleOf(t)!.kind !== 'explain');
  const text = rng.pick(constitution);
  const info = principleOf(text)!;
  const user = renderTemplate(defaultTemplates.critique, { constitution: formatConstitution(constitution), question: p.text, response: `Sure. To ${p.request}, ${p.topic.steps[0]}, then ${p.topic.steps[1]}.`, principle: text });
  const full = critiqueText('plain', 'comply', info, p.topic);
  const cut = full.indexOf(', which') + 1;
  const prefix = tokenizer.encode(formatChat([{ role: 'user', content: user }], true) + full.slice(0, cut));
  const pairs = principleLibrary.map((q) => ({ prompt: prefix, continuation: tokenizer.encode(` which ${q.violation}. This goes against the principle to be ${q.name}.`) }));
  const lp = await continuationLogprobs(model, pairs);
  const best = principleLibrary[lp.indexOf(Math.max(...lp))]!;
  n++; if (best === info) right++;
  const row = conf.get(info.name) ?? new Map(); row.set(best.name, (row.get(best.name) ?? 0) + 1); conf.set(info.name, row);
  const t = byText.get(text) ?? [0, 0]; t[1]++; if (best === info) t[0]++; byText.set(text, t);
}
console.log('teacher-forced fidelity', right, '/', n);
for (const [k, row] of conf) console.log(k, JSON.stringify(Object.fromEntries(row)));
for (const [t, [a, b]] of byText) if (a < b) console.log(`${a}/${b}`, t);
}
main();
