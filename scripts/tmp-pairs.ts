import { readFileSync } from 'node:fs';
import { judgeAnswer } from '../src/lib/world/judge.ts';
import { findPrompt } from '../src/lib/world/prompts.ts';
for (const f of process.argv.slice(2)) {
  const j = JSON.parse(readFileSync(f, 'utf8'));
  const prefs = j.preferences as { prompt: string; chosen: string; rejected: string; label: number }[];
  const c = new Map<string, number>();
  for (const p of prefs) {
    const w = findPrompt(p.prompt);
    const k = `${w?.kind}${w?.disguised ? '(disg)' : ''} ${judgeAnswer(p.chosen, w!.kind)}>${judgeAnswer(p.rejected, w!.kind)}`;
    c.set(k, (c.get(k) ?? 0) + 1);
  }
  console.log(f, prefs.length, JSON.stringify([...c].sort((a, b) => b[1] - a[1])));
}
