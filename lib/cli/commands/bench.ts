import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { BenchFigure } from '../../../bench/types.js';
import { type CliCommand, parseFlags, UsageError } from '../args.js';

/** A bench module: runs its benchmarks and returns their figures. */
interface BenchModule {
  run(opts?: { quick?: boolean }): Promise<BenchFigure[]>;
}

// Loaded on demand so `--only engine` does not pay for esbuild or DynamoDB Local; the bench files
// live outside lib/ because they are measurements, not runtime code.
const SUITES: Record<string, () => Promise<BenchModule>> = {
  pipeline: () => import('../../../bench/pipeline.bench.js'),
  engine: () => import('../../../bench/engine.bench.js'),
  risk: () => import('../../../bench/risk.bench.js'),
  pattern: () => import('../../../bench/pattern.bench.js'),
};

/** The `bench/results.json` document. */
export interface BenchResults {
  generated_at: string;
  node: string;
  machine: { cpus: number; model: string };
  figures: BenchFigure[];
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

/** `exit-engine bench`: runs the benchmarks, prints a table and writes the figures as JSON. */
export const command: CliCommand = {
  name: 'bench',
  summary:
    'Run the benchmarks (pipeline: Lambda bundle size, cold init and warm latency; engine: full rule-set evaluation; risk: the risk library), print them against their budgets and write them as JSON. Over budget is reported, not an error.',
  usage: 'exit-engine bench [--only pipeline|engine|risk|pattern] [--quick] [--out FILE]',
  async run(argv) {
    const { values } = parseFlags(argv, {
      only: { type: 'string' },
      quick: { type: 'boolean' },
      out: { type: 'string' },
    });
    if (values.only !== undefined && !(values.only in SUITES))
      throw new UsageError(`--only: must be one of ${Object.keys(SUITES).join(', ')} (got '${values.only}')`);
    const suites = values.only === undefined ? Object.keys(SUITES) : [values.only];
    const quick = values.quick === true;
    const out = resolve(values.out ?? 'bench/results.json');

    const figures: BenchFigure[] = [];
    for (const suite of suites) {
      let mod: BenchModule;
      try {
        mod = await SUITES[suite]!();
      } catch (error) {
        if (!suiteMissing(error, suite)) throw error;
        console.log(`note: bench/${suite}.bench.ts does not exist yet; skipping the ${suite} benchmarks`);
        continue;
      }
      console.log(`\n== ${suite}${quick ? ' (quick)' : ''}`);
      figures.push(...(await mod.run({ quick })));
    }

    const cpuList = cpus();
    const results: BenchResults = {
      generated_at: new Date().toISOString(),
      node: process.version,
      machine: { cpus: cpuList.length, model: cpuList[0]?.model.trim() ?? 'unknown' },
      figures,
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
    return 0;
  },
};
