import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { numberFlag, parseFlags, UsageError } from '#lib/cli/args.js';
import { COMPILED_RULESETS_FILE } from '#lib/rules/compiled-rule-sets.js';
import { loadedKb } from './bundle-bytes.js';
import { nodeBinaryVersion, requireValgrind } from './callgrind.js';
import { alternationOrder, quantile } from './cold-stats.js';
import { FUNCTION_IMPORT_ENV, measureImport, TRACING_IMPORT_ENV } from './import-child.js';
import { checkoutRevision, type RevisionTree } from './revision-tree.js';

/**
 * What one module costs to load on its own (issue 12 item 5): each module given on the command line is
 * bundled alone, as the Lambda bundles are (its tree's `buildLambdaBundle`), and fresh Node processes
 * time `await import()` of it with `process.cpuUsage`, alternating with an empty module's bundle, whose
 * median is subtracted. With `--base REV` the same modules of REV's tree are bundled and timed in the
 * same alternation, so the before/after stands on one machine load.
 *
 *   npx tsx bench/module-init.ts --base 9974c40 --rounds 31 lib/config.ts lib/contracts/risk-snapshot.ts
 *
 * A module under `functions/` is a Lambda entry point: it is bundled by its tree's own
 * `buildLambdaBundle` (chunks and all, as deployed) and imported with the configuration a function gets
 * (tables, bus, compiled rule sets; no endpoint, so nothing is called at import), tracing off unless
 * `--tracing` (then the function loads the Tracer, as under Lambda's active tracing).
 *
 * `--instructions` counts instead the instructions each process executes, under valgrind's callgrind
 * (threads included, as `process.cpuUsage` includes them), minus the empty module's. A count does not move
 * with other processes' load, where CPU time does by tens of percent on a shared machine; it is not a
 * time (one process runs ~20x slower under valgrind), and what it leaves out (cache misses, page faults)
 * is in the CPU figures. `--node PATH` runs the processes on another Node binary (Lambda runs Node.js 22).
 *
 *   npx tsx bench/module-init.ts --instructions --tracing --rounds 3 --base main functions/evaluate-snapshot.ts
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Arm {
  label: string;
  file: string;
  /** KB loaded at import (a function's entry and the chunks it imports statically). */
  kb: number;
  function?: boolean;
}

type LambdaBundler = (projectRoot: string, entry: string, outDir: string) => Metafile;

/**
 * `entry` (a path relative to `treeRoot`) bundled by the tree's own `buildLambdaBundle` into `outDir/name`,
 * as deployed: Node's built-ins through their shims, the X-Ray SDK trimmed, no arrow functions, a chunk for
 * what it imports dynamically. Its KB are those loaded at import, with tracing on or off.
 */
async function bundleAsLambda(
  treeRoot: string,
  entry: string,
  outDir: string,
  name: string,
  tracing: boolean,
): Promise<Arm> {
  const { buildLambdaBundle } = (await import(
    pathToFileURL(join(treeRoot, 'infra/constructs/lambda-bundling.ts')).href
  )) as { buildLambdaBundle: LambdaBundler };
  const dir = join(outDir, name);
  mkdirSync(dir, { recursive: true });
  const metafile = buildLambdaBundle(treeRoot, entry, dir);
  return { label: name, file: join(dir, 'index.mjs'), kb: loadedKb(metafile)[tracing ? 'on' : 'off'] };
}

/** `module` (a path in `treeRoot`; none: an empty module) bundled alone, as a function is (`bundleAsLambda`). */
function bundleModule(
  treeRoot: string,
  module: string | undefined,
  outDir: string,
  name: string,
): Promise<Arm> {
  const entry = join(outDir, `${name}-entry.ts`);
  writeFileSync(
    entry,
    module === undefined ? 'export {};\n' : `export * from '${join(treeRoot, module)}';\n`,
  );
  return bundleAsLambda(treeRoot, relative(treeRoot, entry), outDir, name, false);
}

const formatDelta = (ms: number) => `${ms > 0 ? '+' : ms < 0 ? '−' : ''}${Math.abs(ms).toFixed(1)}`;

interface Measure {
  node: string;
  tracing: boolean;
  instructions: boolean;
}

/** A function's configuration for every arm (a module such as lib/config.ts reads it at load); tracing for functions. */
function importEnv(arm: Arm, how: Measure): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...FUNCTION_IMPORT_ENV,
    RULESETS_PATH: join(dirname(arm.file), COMPILED_RULESETS_FILE),
    ...(how.tracing && arm.function ? { ...TRACING_IMPORT_ENV, LAMBDA_TASK_ROOT: dirname(arm.file) } : {}),
  };
}

async function main(): Promise<void> {
  const { values: flags, positionals: positional } = parseFlags(
    process.argv.slice(2),
    {
      base: { type: 'string' },
      rounds: { type: 'string' },
      instructions: { type: 'boolean' },
      tracing: { type: 'boolean' },
      node: { type: 'string' },
    },
    true,
  );
  const how: Measure = {
    node: typeof flags.node === 'string' ? flags.node : process.execPath,
    tracing: flags.tracing === true,
    instructions: flags.instructions === true,
  };
  const rounds = numberFlag('--rounds', flags.rounds, how.instructions ? 3 : 21, { min: 1, integer: true });
  if (positional.length === 0) throw new UsageError('name at least one module, e.g. lib/config.ts');
  const version = nodeBinaryVersion(how.node);
  if (how.instructions) requireValgrind();
  const base: RevisionTree | undefined =
    typeof flags.base === 'string' ? checkoutRevision(ROOT, flags.base) : undefined;
  const outDir = mkdtempSync(join(tmpdir(), 'exit-engine-module-init-'));
  try {
    mkdirSync(outDir, { recursive: true });
    const empty = await bundleModule(ROOT, undefined, outDir, 'empty');
    const arms: Arm[] = [empty];
    for (const [i, module] of positional.entries()) {
      const isFunction = module.startsWith('functions/');
      const build = (tree: string, name: string) =>
        isFunction
          ? bundleAsLambda(tree, module, outDir, name, how.tracing)
          : bundleModule(tree, module, outDir, name);
      if (base)
        arms.push({
          ...(await build(base.dir, `base-${i}`)),
          label: `${module} @base`,
          function: isFunction,
        });
      arms.push({ ...(await build(ROOT, `this-${i}`)), label: `${module} @this`, function: isFunction });
    }
    const samples = new Map<Arm, number[]>(arms.map((arm) => [arm, []]));
    for (const { arm } of alternationOrder(arms, rounds))
      samples
        .get(arm)!
        .push(measureImport(how.node, arm.file, importEnv(arm, how), how.instructions, arm.label));
    const floor = quantile(samples.get(empty)!, 0.5);
    const unit = how.instructions ? 'M instr' : 'ms';
    console.log(
      `fresh Node ${version} processes${how.tracing ? ', functions traced' : ''}, ${
        how.instructions ? 'instructions (callgrind) of the process' : 'CPU of await import()'
      }, medians of ${rounds}, minus the empty module's`,
    );
    console.log(`empty module: ${floor.toFixed(1)} ${unit} (subtracted below)`);
    for (const [i, arm] of arms.entries()) {
      if (i === 0) continue;
      const median = quantile(samples.get(arm)!, 0.5) - floor;
      // With a base, each of this tree's arms follows its base arm: in how many rounds it used less CPU.
      const before = base && arm.label.endsWith('@this') ? samples.get(arms[i - 1]!)! : undefined;
      const lower = before
        ? `  paired ${formatDelta(
            quantile(
              samples.get(arm)!.map((ms, round) => ms - before[round]!),
              0.5,
            ),
          )} ${unit},` +
          ` lower in ${samples.get(arm)!.filter((ms, round) => ms < before[round]!).length} / ${rounds} rounds`
        : '';
      console.log(
        `${arm.label.padEnd(44)} ${arm.kb.toFixed(1).padStart(6)} KB ${median.toFixed(1).padStart(6)} ${unit}${lower}`,
      );
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
    base?.remove();
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exitCode = 2;
  } else throw error;
});
