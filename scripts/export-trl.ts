/**
 * `npm run export-trl -- --run run.json --out DIR`: a saved run as a runnable TRL project (see
 * src/lib/export/): run.json is the page's run export ("Export this run") or the output of
 * `npm run experiment -- --json FILE`.
 *
 * Options: --run FILE      the run
 *          --out DIR       where the project goes (a new or empty folder)
 *          --adapter DIR   the run's trained LoRA adapter (PEFT's folder); default: the folder
 *                          the experiment script wrote it to (--adapter-out), if any
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseModelConfig, type ModelConfig } from '../src/lib/model/architecture/config.ts';
import type { LoraConfig } from '../src/lib/model/adapters/lora-config.ts';
import { checkPeftFiles, type PeftFiles } from '../src/lib/model/checkpoints/peft.ts';
import { runForExport } from '../src/lib/export/run-source.ts';
import { exportedModel, modelFolderFiles, usedModelFolders } from '../src/lib/export/trl-inputs.ts';
import { trlProject } from '../src/lib/export/trl-project.ts';

const { values: args } = parseArgs({
  options: {
    run: { type: 'string' },
    out: { type: 'string' },
    adapter: { type: 'string' },
  },
});

/**
 * PEFT's two files from a folder, checked before they are copied: readable, this run's settings
 * (`expected`), LoRA pairs of the base's shapes (`base`, when its folder is here), finite.
 */
function readAdapter(dir: string, expected: LoraConfig, base: ModelConfig | null): PeftFiles {
  const config = join(dir, 'adapter_config.json');
  const weights = join(dir, 'adapter_model.safetensors');
  for (const file of [config, weights])
    if (!existsSync(file)) throw new Error(`The adapter folder ${dir} has no ${file}.`);
  const files: PeftFiles = {
    'adapter_config.json': readFileSync(config, 'utf8'),
    'adapter_model.safetensors': new Uint8Array(readFileSync(weights)),
  };
  checkPeftFiles(files, `the folder ${dir}`, expected, base);
  return files;
}

/** The app's model folder `name` (models/NAME in this repository), or null when it is not here. */
function modelFolder(name: string): Record<string, Uint8Array> | null {
  const dir = resolve('models', name);
  if (!existsSync(dir)) return null;
  const files: Record<string, Uint8Array> = {};
  for (const file of modelFolderFiles)
    if (existsSync(join(dir, file))) files[file] = new Uint8Array(readFileSync(join(dir, file)));
  return files;
}

function main(): void {
  if (!args.run || !args.out)
    throw new Error('Usage: npm run export-trl -- --run run.json --out DIR [--adapter DIR]');
  const run = runForExport(readFileSync(args.run, 'utf8'));
  const out = resolve(args.out);
  if (existsSync(out) && readdirSync(out).length)
    throw new Error(`${out} is not empty: choose a new or empty folder (nothing was written).`);
  const adapterDir = args.adapter ?? (run.adapterDir && resolve(dirname(args.run), run.adapterDir));
  const lora = run.experiment.stages.lora.rank > 0;
  if (adapterDir && !lora)
    throw new Error('The run fine-tuned whole models (LoRA rank 0): it has no adapter to export.');
  const modelFiles: Record<string, Record<string, Uint8Array>> = {};
  for (const name of usedModelFolders(run.experiment)) {
    const files = modelFolder(name);
    if (files) modelFiles[name] = files;
    else
      console.warn(
        `models/${name} is not in this repository: the export's README says to copy it.`,
      );
  }
  const policyFolder = exportedModel(run.experiment.models.policy).folder;
  const baseConfig = policyFolder && modelFiles[policyFolder]?.['config.json'];
  const base = baseConfig
    ? parseModelConfig(JSON.parse(new TextDecoder().decode(baseConfig)))
    : null;
  const files = trlProject({
    experiment: run.experiment,
    records: run.records,
    adapter: adapterDir ? readAdapter(adapterDir, run.experiment.stages.lora, base) : null,
    modelFiles,
    source: run.source,
  });
  for (const { path, data } of files) {
    mkdirSync(dirname(join(out, path)), { recursive: true });
    writeFileSync(join(out, path), data);
  }
  if (lora && !adapterDir)
    console.warn(
      'The run trained a LoRA adapter; pass --adapter DIR to include it (see --adapter-out).',
    );
  console.log(`Wrote ${files.length} files to ${out}; see its README.md.`);
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
