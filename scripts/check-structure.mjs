#!/usr/bin/env node
/**
 * Structure checks of src/ and scripts/ that no type checker makes (../shared/DESIGN.md §7, beside the repository):
 * - no import circle: every relative import of .ts/.svelte files (type-only imports and
 *   re-exports included) forms a graph; any strongly connected group of files is reported;
 * - leaf modules stay leaves: domain/, config/ and util/ import only each other, and
 *   tokenizer/ imports nothing of model/;
 * - no two folders of src/lib/ import each other (a layer imports down, never up);
 * - no module with more request handlers than a reader can hold (12);
 * - no public `$state` field in a state class (*.svelte.ts: #private behind getters);
 * - no file of src/ or scripts/ over 300 lines;
 * and it lists the functions over 60 lines (src/ and scripts/), without failing.
 * Exits 1 with the offenders listed. `npm run check:structure`; part of `npm run lint`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const maxLines = 300;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.(ts|svelte)$/.test(name) ? [path] : [];
  });
}

// `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`.
const importPattern =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The src files a file imports (relative specifiers only; query suffixes like ?url dropped). */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const out = new Set();
  for (const m of text.matchAll(importPattern)) {
    const spec = (m[1] ?? m[2]).split('?')[0];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (/\.(ts|svelte)$/.test(target)) out.add(target);
  }
  return [...out];
}

/** Tarjan's strongly connected components; returns the groups of more than one file. */
function circles(graph) {
  let index = 0;
  const stack = [];
  const meta = new Map();
  const groups = [];
  const visit = (v) => {
    meta.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!meta.has(w)) {
        visit(w);
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
      } else if (meta.get(w).onStack)
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
    }
    if (meta.get(v).low === meta.get(v).index) {
      const group = [];
      let w;
      do {
        w = stack.pop();
        meta.get(w).onStack = false;
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (graph.get(v) ?? []).includes(v)) groups.push(group);
    }
  };
  for (const v of graph.keys()) if (!meta.has(v)) visit(v);
  return groups;
}

/** Folders (under src/lib/) and the folders or files they may import from. */
const leafRules = [
  { from: 'domain/', allowed: ['domain/', 'config/', 'util/'] },
  { from: 'config/', allowed: ['config/'] },
  { from: 'util/', allowed: ['util/'] },
];
const forbidden = [{ from: 'tokenizer/', target: 'model/' }];

function layerProblems(graph) {
  const lib = join(src, 'lib') + '/';
  const out = [];
  for (const [file, imports] of graph) {
    const at = file.startsWith(lib) ? file.slice(lib.length) : null;
    if (!at) continue;
    for (const target of imports) {
      const to = target.startsWith(lib) ? target.slice(lib.length) : target;
      const rule = leafRules.find((r) => at.startsWith(r.from));
      if (rule && !rule.allowed.some((a) => to.startsWith(a)))
        out.push(`${relative(root, file)} is a leaf module but imports ${relative(root, target)}`);
      for (const f of forbidden)
        if (at.startsWith(f.from) && to.startsWith(f.target))
          out.push(
            `${relative(root, file)} imports ${relative(root, target)} (${f.from} must not import ${f.target})`,
          );
    }
  }
  return out;
}

/** The folder of src/lib/ a file belongs to (its first path segment), or null outside it. */
function folderOf(file) {
  const lib = join(src, 'lib') + '/';
  if (!file.startsWith(lib)) return null;
  const rest = file.slice(lib.length);
  return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : null;
}

/** Folder pairs of src/lib/ that import each other, each with one import either way. */
function folderPairs(graph) {
  const edges = new Map(); // "a>b" → one example "file → target"
  for (const [file, imports] of graph) {
    const a = folderOf(file);
    for (const target of imports) {
      const b = folderOf(target);
      if (!a || !b || a === b) continue;
      const key = `${a}>${b}`;
      if (!edges.has(key)) edges.set(key, `${relative(root, file)} → ${relative(root, target)}`);
    }
  }
  const out = [];
  for (const [key, example] of edges) {
    const [a, b] = key.split('>');
    if (a < b && edges.has(`${b}>${a}`))
      out.push(`folders ${a}/ and ${b}/ import each other (${example}; ${edges.get(`${b}>${a}`)})`);
  }
  return out;
}

/** Most request handlers one module may hold: past that a reader cannot keep them in mind, so
 * the worker groups them by capability (workers/engine/). */
const maxHandlers = 12;
const hookNames = new Set(['shouldStop', 'checkpoint', 'onProgress', 'onText', 'onEvent']);

/** Modules with more request handlers (`name: (request…) =>` or `name: () =>` entries of a
 * table passed to serveRequests or returned as a HandlerGroup) than `maxHandlers`. */
function handlerProblems(all) {
  const out = [];
  for (const file of all) {
    const text = readFileSync(file, 'utf8');
    if (!/serveRequests<|HandlerGroup</.test(text)) continue;
    const names = [...text.matchAll(/^\s*(\w+): (?:async )?\((?:request\b[^)]*)?\)\s*=>/gm)]
      .map((m) => m[1])
      .filter((name) => !hookNames.has(name));
    if (names.length > maxHandlers)
      out.push(
        `${relative(root, file)} holds ${names.length} request handlers (at most ${maxHandlers}: group them by capability)`,
      );
  }
  return out;
}

/** Functions longer than this are listed (a reader's screen): not a failure, a to-do list. */
const longFunction = 60;

/** The functions, methods and arrow functions of a .ts file longer than `longFunction` lines. */
function longFunctions(file) {
  if (!file.endsWith('.ts')) return [];
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out = [];
  const line = (pos) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const lines = line(node.end) - line(node.getStart(source)) + 1;
      if (lines > longFunction) {
        const name =
          (node.name && node.name.getText(source)) ||
          (ts.isVariableDeclaration(node.parent) && node.parent.name.getText(source)) ||
          (ts.isPropertyAssignment(node.parent) && node.parent.name.getText(source)) ||
          '(anonymous)';
        out.push(`${relative(root, file)}:${line(node.getStart(source))} ${name} (${lines} lines)`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Public `$state` fields of the page's state classes: each must be `#private` behind a getter
 * (and a setter or method where the page writes it). */
function publicState(all) {
  const out = [];
  for (const file of all.filter((f) => f.endsWith('.svelte.ts'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s+(?:readonly\s+)?(\w+)\s*=\s*\$state\b/gm))
      out.push(
        `${relative(root, file)}: the $state field "${m[1]}" is public (make it #private with a getter)`,
      );
  }
  return out;
}

const all = files(src);
const scripts = files(join(root, 'scripts'));
const graph = new Map([...all, ...scripts].map((f) => [f, importsOf(f)]));
const problems = [];
for (const group of circles(graph)) {
  const names = group.map((f) => relative(root, f)).sort();
  problems.push(`import circle between ${names.length} files: ${names.join(', ')}`);
}
problems.push(...layerProblems(graph));
problems.push(...folderPairs(graph));
problems.push(...handlerProblems(all));
problems.push(...publicState(all));
for (const f of [...all, ...scripts]) {
  const lines = readFileSync(f, 'utf8').split('\n').length - 1;
  if (lines > maxLines)
    problems.push(`${relative(root, f)} has ${lines} lines (at most ${maxLines})`);
}
const long = [...all, ...scripts].flatMap(longFunctions);
if (long.length)
  console.log(
    `Functions over ${longFunction} lines (to split when next touched):\n  ${long.join('\n  ')}`,
  );
if (problems.length) {
  console.error(`Structure check failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(
  `Structure check: ${all.length} files in src/ and ${scripts.length} in scripts/, no import circle, no folder pair importing each other, leaf modules are leaves, none over ${maxLines} lines.`,
);
