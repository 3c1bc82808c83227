import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { numberFlag, parseFlags, UsageError } from '#lib/cli/args.js';
import { alternationOrder, quantile } from './cold-stats.js';
import { checkoutRevision, type RevisionTree } from './revision-tree.js';

/**
 * What one module costs to load on its own (issue 12 item 5): each module given on the command line is
 * bundled alone (esbuild, minified ESM, node22, as the Lambda bundles are), and fresh Node processes
 * time `await import()` of it with `process.cpuUsage`, alternating with an empty module's bundle, whose
 * median is subtracted. With `--base REV` the same modules of REV's tree are bundled and timed in the
 * same alternation, so the before/after stands on one machine load.
 *
 *   npx tsx bench/module-init.ts --base 9974c40 --rounds 31 lib/config.ts lib/contracts/risk-snapshot.ts
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const CHILD = `
const url = process.argv[1];
const before = process.cpuUsage();
await import(url);
const used = process.cpuUsage(before);
process.stdout.write(String((used.user + used.system) / 1000));
`;

interface Arm {
  label: string;
  file: string;
  kb: number;
}

function bundleModule(treeRoot: string, module: string | undefined, outDir: string, name: string): Arm {
  const entry = join(outDir, `${name}-entry.ts`);
  writeFileSync(
    entry,
    module === undefined ? 'export {};\n' : `export * from '${join(treeRoot, module)}';\n`,
  );
  const file = join(outDir, `${name}.mjs`);
  buildSync({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    legalComments: 'none',
    nodePaths: [join(treeRoot, 'node_modules')],
    absWorkingDir: treeRoot,
    logLevel: 'error',
  });
  return { label: name, file, kb: statSync(file).size / 1024 };
}

function timeImport(file: string): number {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', CHILD, pathToFileURL(file).href], {
    encoding: 'utf8',
  });
  return Number(out);
}

async function main(): Promise<void> {
  const { values: flags, positionals: positional } = parseFlags(
    process.argv.slice(2),
    { base: { type: 'string' }, rounds: { type: 'string' } },
    true,
  );
  const rounds = numberFlag('--rounds', flags.rounds, 21, { min: 1, integer: true });
  if (positional.length === 0) throw new UsageError('name at least one module, e.g. lib/config.ts');
  const base: RevisionTree | undefined =
    typeof flags.base === 'string' ? checkoutRevision(ROOT, flags.base) : undefined;
  const outDir = mkdtempSync(join(tmpdir(), 'exit-engine-module-init-'));
  try {
    mkdirSync(outDir, { recursive: true });
    const empty = bundleModule(ROOT, undefined, outDir, 'empty');
    const arms: Arm[] = [empty];
    positional.forEach((module, i) => {
      if (base)
        arms.push({ ...bundleModule(base.dir, module, outDir, `base-${i}`), label: `${module} @base` });
      arms.push({ ...bundleModule(ROOT, module, outDir, `this-${i}`), label: `${module} @this` });
    });
    const samples = new Map<Arm, number[]>(arms.map((arm) => [arm, []]));
    for (const { arm } of alternationOrder(arms, rounds)) samples.get(arm)!.push(timeImport(arm.file));
    const floor = quantile(samples.get(empty)!, 0.5);
    console.log(
      `fresh Node processes, CPU of await import(), medians of ${rounds}, minus the empty module's`,
    );
    console.log(`empty module: ${floor.toFixed(1)} ms (subtracted below)`);
    for (const [i, arm] of arms.entries()) {
      if (i === 0) continue;
      const median = quantile(samples.get(arm)!, 0.5) - floor;
      // With a base, each of this tree's arms follows its base arm: in how many rounds it used less CPU.
      const before = base && arm.label.endsWith('@this') ? samples.get(arms[i - 1]!)! : undefined;
      const lower = before
        ? `  lower in ${samples.get(arm)!.filter((ms, round) => ms < before[round]!).length} / ${rounds} rounds`
        : '';
      console.log(
        `${arm.label.padEnd(44)} ${arm.kb.toFixed(1).padStart(6)} KB ${median.toFixed(1).padStart(6)} ms${lower}`,
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
