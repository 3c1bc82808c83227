import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseFlags } from '#lib/cli/args.js';
import type { BenchFigure } from './types.js';

/**
 * The benchmark runner behind `exit-engine bench` / `npm run bench`. It lives with the benchmarks:
 * the CLI starts it as a process of its own and never imports a benchmark.
 */

/** A bench module: runs its benchmarks and returns their figures. */
interface BenchModule {
  run(opts?: { quick?: boolean }): Promise<BenchFigure[]>;
}

// Loaded on demand so `--only engine` does not pay for esbuild or DynamoDB Local; the bench files
// live outside lib/ because they are measurements, not runtime code.
const SUITES: Record<string, () => Promise<BenchModule>> = {
  pipeline: () => import('./pipeline.bench.js'),
  engine: () => import('./engine.bench.js'),
  risk: () => import('./risk.bench.js'),
  pattern: () => import('./pattern.bench.js'),
  // ≥ 10,000 PutEvents entries through the local pipeline: lost, duplicated, unrecorded, RSS.
  soak: () => import('./soak.bench.js'),
  // Write units per evaluation on DynamoDB Local (consumed capacity), silent and published.
  'write-units': () => import('./write-units.bench.js'),
  // A global market event over 2,000 worlds through the market handler, against the 30 s timeout.
  'market-fanout': () => import('./market-fanout.bench.js'),
  // Module init of the bundle issue 12 measured against today's, alternating on this machine's clock.
  baseline: () => import('./issue-baseline.bench.js'),
};

/** Suites a run of everything runs quick. */
const LONG_SUITES = new Set(['soak', 'market-fanout']);

/** The `bench/results.json` document. */
export interface BenchResults {
  generated_at: string;
  node: string;
  machine: { cpus: number; model: string };
  figures: BenchFigure[];
  notes?: string;
}

/** True when the module that failed to load is the suite file itself (not one of its imports). */
function suiteMissing(error: unknown, suite: string): boolean {
  const e = error as NodeJS.ErrnoException;
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(`${suite}.bench`)
  );
}

function table(figures: readonly BenchFigure[]): string {
  const rows = figures.map((f) => [
    f.name,
    String(f.median),
    f.p99 === undefined ? '' : String(f.p99),
    f.unit,
    f.budget,
    f.ok ? 'ok' : 'OVER BUDGET',
  ]);
  const header = ['name', 'median', 'p99', 'unit', 'budget', 'ok'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The suites a run can be limited to. */
export const SUITE_NAMES = Object.keys(SUITES);

/** One suite in this process: its figures, or none when its file does not exist yet. */
async function runSuiteHere(suite: string, quick: boolean): Promise<BenchFigure[]> {
  const load = SUITES[suite];
  if (!load) throw new Error(`unknown bench suite '${suite}' (one of ${SUITE_NAMES.join(', ')})`);
  let mod: BenchModule;
  try {
    mod = await load();
  } catch (error) {
    if (!suiteMissing(error, suite)) throw error;
    console.log(`note: bench/${suite}.bench.ts does not exist yet; skipping the ${suite} benchmarks`);
    return [];
  }
  console.log(`\n== ${suite}${quick ? ' (quick)' : ''}`);
  return (await mod.run({ quick })).map((f) => ({ ...f, suite }));
}

/**
 * One suite in a fresh process of its own (this runner with `--only SUITE --part FILE`), so no suite
 * measures in a process another suite has loaded: the AWS SDK the pipeline suite loads for DynamoDB Local
 * made the engine's figure ~20% slower in the same process (0.46 → 0.56 ms).
 */
function runSuiteApart(suite: string, quick: boolean): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'exit-engine-bench-'));
  const part = join(dir, `${suite}.json`);
  const args = [
    fileURLToPath(import.meta.url),
    '--only',
    suite,
    '--part',
    part,
    ...(quick ? ['--quick'] : []),
  ];
  const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: 'inherit' });
  return new Promise<BenchFigure[]>((resolveFigures, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      try {
        if (code !== 0)
          throw new Error(`bench suite '${suite}' failed (${signal ?? `exit ${code}`}); its output is above`);
        resolveFigures(JSON.parse(readFileSync(part, 'utf8')) as BenchFigure[]);
      } catch (error) {
        reject(error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** Runs the suites, prints a table against the budgets and writes the figures as JSON. */
export async function runBench(opts: {
  only?: string;
  quick?: boolean;
  out?: string;
  /** Run as one suite's process of a whole run: write its figures alone to this file, print no table. */
  part?: string;
}): Promise<number> {
  const quick = opts.quick === true;
  const out = resolve(opts.out ?? 'bench/results.json');

  const figures: BenchFigure[] = [];
  const failed: string[] = [];
  if (opts.only !== undefined) {
    figures.push(...(await runSuiteHere(opts.only, quick)));
    if (opts.part !== undefined) {
      writeFileSync(opts.part, JSON.stringify(figures));
      return 0;
    }
  } else
    for (const suite of SUITE_NAMES)
      try {
        // The full soak and fan-out take minutes: they run in full only when asked (`npm run bench -- soak`).
        figures.push(...(await runSuiteApart(suite, quick || LONG_SUITES.has(suite))));
      } catch (error) {
        // One suite failing does not lose the others' figures; the run still fails.
        console.error(`bench: ${(error as Error).message}`);
        failed.push(suite);
      }

  const cpuList = cpus();
  const results: BenchResults = {
    generated_at: new Date().toISOString(),
    node: process.version,
    machine: { cpus: cpuList.length, model: cpuList[0]?.model.trim() ?? 'unknown' },
    // One suite run replaces that suite's figures and keeps the others' (and the notes); a whole run in
    // which suites failed keeps those suites' earlier figures.
    ...(opts.only !== undefined
      ? keptFrom(out, [opts.only], figures)
      : failed.length > 0
        ? keptFrom(
            out,
            SUITE_NAMES.filter((s) => !failed.includes(s)),
            figures,
          )
        : { figures }),
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);

  console.log(`\n${table(figures)}\n`);
  const over = figures.filter((f) => !f.ok);
  if (over.length > 0)
    console.log(
      `OVER BUDGET (${over.length}): ${over.map((f) => `${f.name.trim()} = ${f.median} ${f.unit} (${f.budget})`).join('; ')}`,
    );
  else console.log('all figures within budget');
  console.log(
    `figures written to ${out} (${results.machine.cpus} × ${results.machine.model}, node ${results.node})`,
  );
  if (failed.length > 0) {
    console.error(`FAILED (${failed.length}): ${failed.join(', ')}; their earlier figures were kept`);
    return 1;
  }
  return 0;
}

/** What a single-suite run keeps of the results file: other suites' figures and the notes. */
export function keptFrom(
  out: string,
  suites: readonly string[],
  fresh: readonly BenchFigure[],
): Pick<BenchResults, 'figures' | 'notes'> {
  if (!existsSync(out)) return { figures: [...fresh] };
  let old: Partial<BenchResults>;
  try {
    old = JSON.parse(readFileSync(out, 'utf8')) as Partial<BenchResults>;
  } catch {
    return { figures: [...fresh] };
  }
  // Names often carry their figures ("… (numpy 0.12 ms, ours 0.39 ms)"): compare what comes before.
  const stem = (name: string) => name.split(' (')[0]!.split(':')[0]!.trim();
  const replaced = new Set(fresh.map((f) => stem(f.name)));
  const kept = (old.figures ?? []).filter(
    (f) => !(f.suite !== undefined ? suites.includes(f.suite) : replaced.has(stem(f.name))),
  );
  return { figures: [...kept, ...fresh], ...(old.notes !== undefined ? { notes: old.notes } : {}) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseFlags(
    process.argv.slice(2),
    {
      only: { type: 'string' },
      quick: { type: 'boolean' },
      out: { type: 'string' },
      part: { type: 'string' },
    },
    true,
  );
  process.exitCode = await runBench({
    ...(values.part !== undefined ? { part: values.part } : {}),
    ...(values.only !== undefined ? { only: values.only } : {}),
    quick: values.quick === true,
    ...(values.out !== undefined ? { out: values.out } : {}),
  });
}
